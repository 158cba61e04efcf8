// A registry address in the forms docker, nerdctl and podman send: host, host:port, URLs.

/// The host (and port) of a registry, normalised from what a client sent.
///
/// Accepts `host`, `host:443`, `https://host[:port][/path]` and `http://...` (nerdctl tries
/// those too). The host is lower-cased; user info, path, query and fragment are dropped.
public struct RegistryAddress: Hashable, Sendable, CustomStringConvertible {
    /// Why an address was not understood.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        /// The input, as given.
        public var input: String
        /// What is wrong with it.
        public var reason: String
        /// For example "invalid registry address \"ftp://x\": unsupported scheme ftp".
        public var description: String { "invalid registry address \"\(input)\": \(reason)" }
    }

    /// The host name or IP literal, lower case, without brackets.
    public var host: String
    /// The port, when one was given.
    public var port: Int?

    /// Host and port as `host[:port]`, the form that keys stored credentials.
    public var description: String {
        let shown = host.contains(":") ? "[\(host)]" : host
        return port.map { "\(shown):\($0)" } ?? shown
    }

    /// Creates an address from its parts.
    public init(host: String, port: Int? = nil) {
        self.host = host
        self.port = port
    }

    /// Parses what a client sent as a server URL.
    /// - Throws: `ParseError` for an empty host, an unsupported scheme, a bad port or bad characters.
    public init(parsing input: String) throws {
        let trimmed = input.trimmingASCIIWhitespace()
        func fail(_ reason: String) -> ParseError { ParseError(input: input, reason: reason) }
        var rest = Substring(trimmed)
        if let schemeEnd = rest.firstRange(of: "://") {
            let scheme = rest[..<schemeEnd.lowerBound].lowercased()
            guard scheme == "https" || scheme == "http" else { throw fail("unsupported scheme \(scheme)") }
            rest = rest[schemeEnd.upperBound...]
        }
        // The authority ends where WHATWG URL parsers (browsers, most HTTP libraries) end it: a
        // backslash is a path separator there, so `evil.example\@HOST` names evil.example.
        if let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" || $0 == "\\" }) {
            rest = rest[..<end]
        }
        if let at = rest.lastIndex(of: "@") {
            rest = rest[rest.index(after: at)...]
        }
        var hostPart = rest
        var port: Int?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw fail("unclosed [ in IPv6 address") }
            hostPart = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("unexpected text after ]") }
                port = try Self.port(after.dropFirst(), fail)
            }
        } else if let colon = rest.lastIndex(of: ":") {
            hostPart = rest[..<colon]
            port = try Self.port(rest[rest.index(after: colon)...], fail)
        }
        guard !hostPart.isEmpty else { throw fail("no host") }
        let host = hostPart.lowercased()
        let allowed = host.utf8.allSatisfy { byte in
            (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2d || byte == 0x2e
                || byte == 0x5f || byte == 0x3a
        }
        guard allowed, host.utf8.count <= 253 else { throw fail("invalid characters in host") }
        self.init(host: host, port: port)
    }

    private static func port(_ text: Substring, _ fail: (String) -> ParseError) throws -> Int {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy({ $0.isASCII && $0.isNumber }),
              let value = Int(text), (1...65535).contains(value)
        else { throw fail("invalid port \"\(text)\"") }
        return value
    }
}

extension StringProtocol {
    /// The string without leading and trailing ASCII white space (space, tab, CR, LF, VT, FF).
    func trimmingASCIIWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" || $0 == "\u{0B}" || $0 == "\u{0C}" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
