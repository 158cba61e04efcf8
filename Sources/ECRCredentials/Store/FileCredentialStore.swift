// Credential records as private files, one per registry, kind and identity.

/// Keeps each record in its own file `<registry>@<kind>-<identity>.json` in a 0700 directory.
///
/// One file per record means parallel processes writing different registries never touch the
/// same file, so no update can be lost; each write is a temporary file renamed into place, so a
/// reader sees the old or the new record, whole. Files that do not decode (corrupt, truncated,
/// another version) are treated as absent and replaced by the next write.
///
/// The directory must belong to the user; each file must be a regular file the user owns (not a
/// symbolic link), so nobody else can plant a record. A file is used only under the name its own
/// registry, kind and identity give, so a record cannot stand in for another registry's.
package final class FileCredentialStore: CredentialStore {
    /// The directory.
    package let directory: String
    /// "file".
    package let name = "file"
    private let diagnostics: Diagnostics

    /// Creates a store in `directory` (created, mode 0700, on the first write).
    package init(directory: String, diagnostics: Diagnostics = Diagnostics()) {
        self.directory = directory
        self.diagnostics = diagnostics
    }

    /// The file of a record.
    package func path(kind: CredentialRecord.Kind, registry: String, identity: String) -> String {
        "\(directory)/\(Self.fileStem(registry))@\(kind.rawValue)-\(identity.isEmpty ? "any" : identity).json"
    }

    /// The registry key made safe and unambiguous for a file name: lower-case letters, digits,
    /// `.` and `-` stay; every other byte becomes `%XX` (so `host:5000` is `host%3A5000` and
    /// `host_5000` is `host%5F5000`: no two keys share a file).
    static func fileStem(_ registry: String) -> String {
        func isKept(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"): true
            default: false
            }
        }
        // An ECR host (every cache hit's) has nothing to escape: it is its own stem.
        if registry.utf8.allSatisfy(isKept) { return registry }
        let digits = Array("0123456789ABCDEF".utf8)
        var stem: [UInt8] = []
        stem.reserveCapacity(registry.utf8.count * 3)
        for byte in registry.utf8 {
            if isKept(byte) {
                stem.append(byte)
            } else {
                stem.append(UInt8(ascii: "%"))
                stem.append(digits[Int(byte >> 4)])
                stem.append(digits[Int(byte & 0xF)])
            }
        }
        return String(decoding: stem, as: UTF8.self)
    }

    /// The file name stem of earlier versions, which mapped `:` to `_` and `[`, `]`, `/` to `-`
    /// and so could give two registries one file. Logins stored under it are still found (and
    /// moved to the new name by the next `store`); tokens under it are ignored (a cache).
    static func legacyFileStem(_ registry: String) -> String {
        String(registry.map { $0 == ":" ? "_" : ($0 == "[" || $0 == "]" || $0 == "/" ? "-" : $0) })
    }

    /// Where earlier versions kept a login.
    func legacyLoginPath(registry: String) -> String {
        "\(directory)/\(Self.legacyFileStem(registry))@\(CredentialRecord.Kind.login.rawValue)-any.json"
    }

    package func record(kind: CredentialRecord.Kind, registry: String, identity: String) throws -> CredentialRecord? {
        guard try PrivateFile.checkDirectory(directory) else { return nil }
        if let record = try read(path(kind: kind, registry: registry, identity: identity)),
           record.kind == kind, record.registry == registry, record.identity == identity {
            return record
        }
        // A login stored by an earlier version; its content says which registry it belongs to.
        guard kind == .login, identity.isEmpty, legacyLoginPath(registry: registry) != path(kind: kind, registry: registry, identity: identity),
              let record = try read(legacyLoginPath(registry: registry)),
              record.kind == .login, record.registry == registry, record.identity.isEmpty
        else { return nil }
        return record
    }

    package func save(_ record: CredentialRecord) throws {
        try PrivateFile.makeDirectory(directory)
        let path = path(kind: record.kind, registry: record.registry, identity: record.identity)
        try PrivateFile.writeAtomically(try record.writtenForm(), to: path)
        if record.kind == .login, record.identity.isEmpty {
            // The new file is in place: the copy under the old name (this registry's only) can go.
            try removeLegacyLogin(registry: record.registry, except: path)
        }
    }

    package func remove(kind: CredentialRecord.Kind, registry: String, identity: String) throws {
        let path = path(kind: kind, registry: registry, identity: identity)
        try PrivateFile.remove(path)
        if kind == .login, identity.isEmpty { try removeLegacyLogin(registry: registry, except: path) }
    }

    /// Removes the login kept under the old file name when it belongs to `registry` (and not to
    /// another registry that shared its name).
    private func removeLegacyLogin(registry: String, except current: String) throws {
        let legacy = legacyLoginPath(registry: registry)
        guard legacy != current, let old = try? read(legacy), old.registry == registry else { return }
        try PrivateFile.remove(legacy)
    }

    @discardableResult
    package func removeAll(registry: String) throws -> Int {
        guard try PrivateFile.checkDirectory(directory) else { return 0 }
        let prefix = Self.fileStem(registry) + "@"
        var removed = 0
        for name in try PrivateFile.names(in: directory) where name.hasPrefix(prefix) && name.hasSuffix(".json") {
            try PrivateFile.remove("\(directory)/\(name)")
            removed += 1
        }
        let legacy = legacyLoginPath(registry: registry)
        if legacy != path(kind: .login, registry: registry, identity: ""), let old = try? read(legacy), old.registry == registry {
            try PrivateFile.remove(legacy)
            removed += 1
        }
        return removed
    }

    package func allRecords() throws -> [CredentialRecord] {
        guard try PrivateFile.checkDirectory(directory) else { return [] }
        var records: [CredentialRecord] = []
        for name in try PrivateFile.names(in: directory).sorted() where name.hasSuffix(".json") {
            let path = "\(directory)/\(name)"
            guard let record = try? read(path) else { continue }
            // Only under its own name (or, for a login, the name earlier versions gave it).
            let expected = self.path(kind: record.kind, registry: record.registry, identity: record.identity)
            guard path == expected || (record.kind == .login && record.identity.isEmpty && path == legacyLoginPath(registry: record.registry)) else {
                diagnostics.debug("ignoring \(path): it holds a record of \(record.registry) that belongs in \(expected)")
                continue
            }
            records.append(record)
        }
        return records
    }

    /// The record in a file; nil when the file is absent or does not decode.
    /// - Throws: `PrivateFile.Refusal` for a file that is not the user's own regular file.
    private func read(_ path: String) throws -> CredentialRecord? {
        guard let bytes = try PrivateFile.read(path, policy: .ownRecord) else { return nil }
        return decode(bytes, path: path)
    }

    /// The form `save` writes is read directly; any other spelling goes through `JSONInput`.
    private func decode(_ bytes: [UInt8], path: String) -> CredentialRecord? {
        guard let record = CredentialRecord.decodeWrittenForm(bytes) ?? (try? JSONInput.decode(CredentialRecord.self, from: bytes)),
              record.version == CredentialRecord.currentVersion, record.isPlausible
        else {
            diagnostics.debug("ignoring unreadable or foreign cache file \(path)")
            return nil
        }
        return record
    }
}
