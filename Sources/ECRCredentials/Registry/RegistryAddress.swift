// A registry address in the forms docker, nerdctl and podman send: host, host:port, URLs.

/// The host (and port) of a registry, normalised from what a client sent.
///
/// Accepts `host`, `host:443`, `https://host[:port][/path]` and `http://...` (nerdctl tries
/// those too). The host is lower-cased; user info, path, query and fragment are dropped.
///
/// The host is what docker's reference grammar takes for a registry domain: labels of letters,
/// digits and `-` (neither first nor last, and at most 63 of them, as DNS has it) joined by single dots (`localhost`, `10.0.0.1` and
/// `registry.example` are such names), or an IPv6 address in brackets (`[::1]`).
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
        // The delimiters are ASCII, so they are looked for byte by byte (in UTF-8 no byte of a
        // longer character is ASCII), as URL parsers look for them: a combining mark after a
        // delimiter does not hide it.
        var rest = try Self.authority(of: Substring(trimmed), fail)
        if let at = rest.utf8.lastIndex(of: UInt8(ascii: "@")) {
            rest = rest[rest.utf8.index(after: at)...]
        }
        var hostPart = rest
        var port: Int?
        let bracketed = rest.utf8.first == UInt8(ascii: "[")
        if bracketed {
            guard let close = rest.utf8.firstIndex(of: UInt8(ascii: "]")) else { throw fail("unclosed [ in IPv6 address") }
            hostPart = rest[rest.utf8.index(after: rest.startIndex)..<close]
            let after = rest[rest.utf8.index(after: close)...]
            if !after.isEmpty {
                guard after.utf8.first == UInt8(ascii: ":") else { throw fail("unexpected text after ]") }
                port = try Self.port(after[after.utf8.index(after: after.startIndex)...], fail)
            }
        } else if let colon = rest.utf8.lastIndex(of: UInt8(ascii: ":")) {
            hostPart = rest[..<colon]
            port = try Self.port(rest[rest.utf8.index(after: colon)...], fail)
        }
        guard !hostPart.isEmpty else { throw fail("no host") }
        let host = hostPart.lowercased()
        if let problem = bracketed ? Self.ipv6Problem(host) : Self.domainProblem(host) { throw fail(problem) }
        self.init(host: host, port: port)
    }

    /// What `input` (a server URL) carries that a registry login's URL has no use for and that
    /// `list` would show: user information (`user:password@`), a query, a fragment, or a
    /// backslash (after which URL parsers read a path); nil when it carries none of them.
    package static func extraneousPart(_ input: String) -> String? {
        let trimmed = Substring(input.trimmingASCIIWhitespace())
        if let authority = try? authority(of: trimmed, { ParseError(input: input, reason: $0) }),
           authority.utf8.contains(UInt8(ascii: "@")) {
            return "user information (user@ or user:password@)"
        }
        for (byte, part) in [(UInt8(ascii: "?"), "a query (?...)"), (UInt8(ascii: "#"), "a fragment (#...)"),
                             (UInt8(ascii: "\\"), "a backslash")] where trimmed.utf8.contains(byte) {
            return part
        }
        return nil
    }

    /// `url` as `list` shows it: without user information, query or fragment, and nothing from
    /// a backslash on, so that a login kept from such a URL (by an earlier version, which took
    /// them) never shows a password there.
    package static func displayForm(_ url: String) -> String {
        let text = Substring(url)
        var start = text.startIndex
        if let schemeEnd = schemeSeparator(in: text) { start = schemeEnd.upperBound }
        let rest = text[start...]
        let end = rest.utf8.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") || $0 == UInt8(ascii: "\\") })
            ?? rest.endIndex
        var kept = rest[..<end]
        let authorityEnd = kept.utf8.firstIndex(of: UInt8(ascii: "/")) ?? kept.endIndex
        if let at = kept[..<authorityEnd].utf8.lastIndex(of: UInt8(ascii: "@")) {
            kept = kept[kept.utf8.index(after: at)...]
        }
        return String(text[..<start]) + String(kept)
    }

    /// The authority of `text` (`[userinfo@]host[:port]`): after an `http://` or `https://`
    /// scheme, up to where WHATWG URL parsers (browsers, most HTTP libraries) end it. A backslash
    /// is a path separator there, so `evil.example\@HOST` names evil.example.
    private static func authority(of text: Substring, _ fail: (String) -> ParseError) throws -> Substring {
        var rest = text
        if let schemeEnd = schemeSeparator(in: rest) {
            let scheme = rest[..<schemeEnd.lowerBound].lowercased()
            guard scheme == "https" || scheme == "http" else { throw fail("unsupported scheme \(scheme)") }
            rest = rest[schemeEnd.upperBound...]
        }
        if let end = rest.utf8.firstIndex(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") || $0 == UInt8(ascii: "\\") }) {
            rest = rest[..<end]
        }
        return rest
    }

    /// The range of the first `://` in `text`.
    private static func schemeSeparator(in text: Substring) -> Range<Substring.Index>? {
        let bytes = text.utf8
        var index = bytes.startIndex
        while let colon = bytes[index...].firstIndex(of: UInt8(ascii: ":")) {
            let first = bytes.index(after: colon)
            if first != bytes.endIndex, bytes[first] == UInt8(ascii: "/") {
                let second = bytes.index(after: first)
                if second != bytes.endIndex, bytes[second] == UInt8(ascii: "/") { return colon..<bytes.index(after: second) }
            }
            index = first
        }
        return nil
    }

    /// Whether `host` is a registry domain (see `domainProblem`), checked in one pass over its
    /// bytes: the answer for every address a client sends, before any message is composed.
    private static func isDomain(_ host: String) -> Bool {
        var labelLength = 0
        var previous: UInt8 = 0
        var count = 0
        for byte in host.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                guard labelLength < 63 else { return false }
                labelLength += 1
            case UInt8(ascii: "-"):
                guard labelLength > 0, labelLength < 63 else { return false }
                labelLength += 1
            case UInt8(ascii: "."):
                guard labelLength > 0, previous != UInt8(ascii: "-") else { return false }
                labelLength = 0
            default:
                return false
            }
            previous = byte
            count += 1
        }
        return count <= 253 && labelLength > 0 && previous != UInt8(ascii: "-")
    }

    /// What keeps `host` from being a registry domain as docker's reference grammar has it
    /// (`[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?` labels joined by dots), or nil when it is one.
    private static func domainProblem(_ host: String) -> String? {
        if isDomain(host) { return nil }
        let rule = "a registry host is labels of letters, digits and '-' joined by single dots, or an IPv6 address in brackets"
        guard host.utf8.count <= 253 else { return "the host is longer than 253 characters" }
        if let bad = host.unicodeScalars.first(where: { !(isLetterOrDigit($0) || $0 == "-" || $0 == ".") }) {
            let shown = bad.isASCII && bad.value >= 0x20 && bad.value < 0x7f ? "'\(Character(bad))'" : "U+\(String(bad.value, radix: 16, uppercase: true))"
            let hint = bad == ":" ? " (an IPv6 address goes in brackets, such as [::1]:5000)" : ""
            return "the host \"\(printable(host))\" has \(shown)\(hint); \(rule)"
        }
        for label in host.split(separator: ".", omittingEmptySubsequences: false) {
            if label.isEmpty { return "the host \"\(host)\" has an empty label; \(rule)" }
            if label.utf8.count > 63 { return "the host label \"\(label.prefix(20))...\" is longer than 63 characters; \(rule)" }
            if label.hasPrefix("-") || label.hasSuffix("-") {
                return "the host label \"\(label)\" \(label.hasPrefix("-") ? "starts" : "ends") with '-'; \(rule)"
            }
        }
        return nil
    }

    /// What keeps `host` (the text between brackets) from being an IPv6 address, or nil when it is one:
    /// up to eight groups of one to four hex digits, with at most one `::` standing for the rest.
    private static func ipv6Problem(_ host: String) -> String? {
        let problem = "\"[\(printable(host))]\" is not an IPv6 address (up to eight groups of hex digits joined by ':', one '::' at most)"
        guard host.utf8.count <= 39, host.contains(":"),
              host.unicodeScalars.allSatisfy({ $0 == ":" || ($0.isASCII && Character($0).isHexDigit) })
        else { return problem }
        // The text around the one `::`, or the whole when there is none.
        let bytes = Array(host.utf8)
        func isDoubleColon(_ at: Int) -> Bool { bytes[at] == UInt8(ascii: ":") && bytes[at + 1] == UInt8(ascii: ":") }
        var halves = [host]
        if let at = (0..<bytes.count - 1).first(where: isDoubleColon) {
            guard !(at + 2..<max(at + 2, bytes.count - 1)).contains(where: isDoubleColon) else { return problem }
            halves = [String(decoding: bytes[..<at], as: UTF8.self), String(decoding: bytes[(at + 2)...], as: UTF8.self)]
        }
        var groups = 0
        for half in halves where !half.isEmpty {
            for group in half.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(group.count) else { return problem }
                groups += 1
            }
        }
        guard halves.count == 2 ? groups <= 7 : groups == 8 else { return problem }
        return nil
    }

    private static func isLetterOrDigit(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
    }

    /// `text` with anything but printable ASCII shown as `?`, for a message.
    private static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.prefix(256).map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7f ? $0 : "?" }))
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
        // Most text has nothing to trim: one look at each end, byte-wise, answers it.
        let isSpaceByte: (UInt8) -> Bool = { $0 == 0x20 || (0x09...0x0D).contains($0) }
        if let first = utf8.first, let last = self.last?.utf8.last, !isSpaceByte(first), !isSpaceByte(last) { return String(self) }
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" || $0 == "\u{0B}" || $0 == "\u{0C}" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
