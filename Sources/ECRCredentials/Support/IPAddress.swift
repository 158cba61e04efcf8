// IP address literals parsed as addresses, for allowlists that must not compare text.
#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address parsed from its literal form with `inet_pton(3)`.
///
/// `inet_pton` accepts only the strict forms (four decimal parts; RFC 4291 text for IPv6), so
/// `127.0.0.1.evil.example`, `127.1` or `0x7f.0.0.1` are not addresses at all.
package struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address bytes in network order: 4 for IPv4, 16 for IPv6.
    package let bytes: [UInt8]

    /// Parses a literal (IPv6 without brackets); nil for anything that is not exactly one.
    package init?(_ text: String) {
        if var address = Optional(in_addr()), inet_pton(AF_INET, text, &address) == 1 {
            bytes = withUnsafeBytes(of: &address) { Array($0) }
        } else if var address = Optional(in6_addr()), inet_pton(AF_INET6, text, &address) == 1 {
            bytes = withUnsafeBytes(of: &address) { Array($0) }
        } else {
            return nil
        }
    }

    /// Whether it is IPv4 (4 bytes).
    package var isIPv4: Bool { bytes.count == 4 }

    /// Whether it is a loopback address: 127.0.0.0/8 or ::1.
    package var isLoopback: Bool {
        isIPv4 ? bytes[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1]
    }

    /// The canonical text (`inet_ntop`).
    package var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = isIPv4 ? AF_INET : AF_INET6
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
