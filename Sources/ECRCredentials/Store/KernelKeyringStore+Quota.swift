// The kernel tier and the user's key quota: what it holds, and what gives way when it is full.
#if canImport(Glibc)
import Glibc
#endif

extension KernelKeyringStore {
    /// The user's key quota, from `/proc/key-users`.
    package struct Quota: Sendable, Equatable {
        /// Keys kept, and the most allowed.
        package var keys: Int, maximumKeys: Int
        /// Bytes kept (descriptions and payloads), and the most allowed.
        package var bytes: Int, maximumBytes: Int

        package init(keys: Int, maximumKeys: Int, bytes: Int, maximumBytes: Int) {
            (self.keys, self.maximumKeys, self.bytes, self.maximumBytes) = (keys, maximumKeys, bytes, maximumBytes)
        }
    }

    /// The user's key quota, when `/proc/key-users` can be read.
    package static func quota() -> Quota? {
        guard let bytes = try? PrivateFile.read("/proc/key-users", policy: .external), bytes.count < 1 << 20 else { return nil }
        let user = "\(getuid())"
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            // "  1000:     5 5/5 5/200 312/20000": uid, usage, nkeys/nikeys, keys/maxkeys, bytes/maxbytes
            let fields = line.split(separator: " ")
            guard fields.count == 5, fields[0] == "\(user):" else { continue }
            let counted = fields[3].split(separator: "/").compactMap { Int($0) }
            let sized = fields[4].split(separator: "/").compactMap { Int($0) }
            guard counted.count == 2, sized.count == 2 else { return nil }
            return Quota(keys: counted[0], maximumKeys: counted[1], bytes: sized[0], maximumBytes: sized[1])
        }
        return nil
    }

    /// This tool's entries (every scope, but not the registry being written), registry by
    /// registry: the registries whose tokens expire soonest first, each registry's token and
    /// login note together (a token is a fast hit only with its note). None when
    /// `/proc/key-users` shows that dropping all of them would not make room.
    func evictionOrder(except description: String, needed: Int) throws -> [(serials: [Int32], expiresAt: Double)] {
        let writing = Self.parseName(Substring(description)).map { "\($0.scope):\($0.registry)" }
        var groups: [String: (expiresAt: Double, serials: [Int32])] = [:]
        var ourBytes = 0
        for listed in try entries(allScopes: true) where "\(listed.scope):\(listed.registry)" != writing {
            guard let bytes = try? keys.read(listed.serial, limit: Self.payloadLimit), let kept = Self.kept(from: bytes) else { continue }
            ourBytes += listed.description.utf8.count + 1 + bytes.count
            var expiresAt = 0.0
            if case .record(let record) = kept.entry { expiresAt = record.expiresAt ?? EpochSeconds.range.upperBound }
            let group = "\(listed.scope):\(listed.registry)"
            let serial = listed.serial
            groups[group, default: (0, [])].expiresAt = max(groups[group]?.expiresAt ?? 0, expiresAt)
            groups[group, default: (0, [])].serials.append(serial)
        }
        if let quota = quota(), quota.maximumBytes - (quota.bytes - ourBytes) < needed {
            diagnostics.debug("the kernel keyring quota (\(quota.bytes) of \(quota.maximumBytes) bytes used) has no room for \(needed) bytes, even without this tool's entries")
            return []
        }
        return groups.values.sorted { $0.expiresAt < $1.expiresAt }.map { ($0.serials, $0.expiresAt) }
    }
}
