// The kernel tier's scope: one per Secret Service, named after the session bus however it is spelled.

#if canImport(Glibc)
import Glibc
#endif

extension KernelKeyringStore {
    /// The scope of the session bus the environment names (see `busIdentity(_:)`).
    package static func scope(environment: Environment) -> String {
        let digest = Digest.sha256(Array("docker-credential-ecr/kernel/2\0\(busIdentity(environment))".utf8))
        return Hex.encode(digest.prefix(8))
    }

    /// The session bus as one name, however it is spelled: the first address of
    /// `DBUS_SESSION_BUS_ADDRESS` without its `guid`, a socket path resolved (`realpath`), else
    /// `$XDG_RUNTIME_DIR/bus` resolved the same way.
    package static func busIdentity(_ environment: Environment) -> String {
        func socket(_ path: String) -> String {
            guard let resolved = realpath(path, nil) else { return "unix:path=\(path)" }
            defer { free(resolved) }
            return "unix:path=\(String(cString: resolved))"
        }
        if let address = environment["DBUS_SESSION_BUS_ADDRESS"] {
            let first = address.split(separator: ";").first.map(String.init) ?? address
            guard let colon = first.firstIndex(of: ":") else { return first }
            let transport = first[..<colon]
            let pairs = first[first.index(after: colon)...].split(separator: ",").map(String.init).filter { !$0.hasPrefix("guid=") }
            if transport == "unix", let path = pairs.first(where: { $0.hasPrefix("path=") }) {
                return socket(unescape(String(path.dropFirst(5))))
            }
            return "\(transport):\(pairs.sorted().joined(separator: ","))"
        }
        if let runtime = environment["XDG_RUNTIME_DIR"] { return socket(runtime + "/bus") }
        return ""
    }

    /// A D-Bus address value with its `%XX` escapes decoded.
    static func unescape(_ value: String) -> String {
        var bytes: [UInt8] = []
        var input = Array(value.utf8)[...]
        while let byte = input.popFirst() {
            if byte == UInt8(ascii: "%"), input.count >= 2, let decoded = UInt8(String(decoding: input.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(decoded)
                input = input.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
