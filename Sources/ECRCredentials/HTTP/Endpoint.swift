// A service endpoint: scheme, authority and an optional base path.

/// Where requests to a service go, such as `https://api.ecr.us-east-1.amazonaws.com`.
package struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    /// Why an endpoint URL was refused.
    package struct ParseError: Error, Sendable, CustomStringConvertible {
        /// The URL, as given.
        package var url: String
        /// What is wrong.
        package var reason: String
        /// For example "invalid endpoint URL \"ftp://x\": the scheme must be http or https"; a
        /// password in the URL is shown as `<redacted>`.
        package var description: String { "invalid endpoint URL \"\(TerminalText.printable(SecretRedaction.url(url)))\": \(reason)" }
    }

    /// `https` or `http`.
    package var scheme: String
    /// `host` or `host:port` (IPv6 literals in brackets).
    package var authority: String
    /// A path prefix without a trailing slash, usually empty.
    package var basePath: String

    /// Creates an HTTPS endpoint for a host.
    package init(host: String) {
        self.init(scheme: "https", authority: host, basePath: "")
    }

    /// Creates an endpoint from its parts.
    package init(scheme: String, authority: String, basePath: String) {
        self.scheme = scheme
        self.authority = authority
        self.basePath = basePath
    }

    /// Parses `http(s)://host[:port][/path]`.
    /// - Throws: `ParseError` for another scheme or a missing host.
    package init(parsing url: String) throws {
        let text = url.trimmingASCIIWhitespace()
        guard let schemeEnd = text.firstRange(ofText: "://") else {
            throw ParseError(url: url, reason: "it must start with http:// or https://")
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else {
            throw ParseError(url: url, reason: "the scheme must be http or https")
        }
        // The delimiters are ASCII: found byte by byte (an index of one is a character boundary).
        var rest = text[schemeEnd.upperBound...]
        if let end = rest.utf8.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }) { rest = rest[..<end] }
        let slash = rest.utf8.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
        let authority = String(rest[..<slash])
        guard !authority.isEmpty, !authority.utf8.contains(UInt8(ascii: "@")) else {
            throw ParseError(url: url, reason: authority.isEmpty ? "no host" : "user info is not allowed")
        }
        var path = rest[slash...]
        while path.utf8.last == UInt8(ascii: "/") { path = path[..<path.utf8.index(before: path.endIndex)] }
        let basePath = String(path)
        self.init(scheme: scheme, authority: authority, basePath: basePath)
    }

    /// The host without port or brackets.
    package var host: String {
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            return String(authority[authority.index(after: authority.startIndex)..<close])
        }
        if let colon = authority.lastIndex(of: ":") { return String(authority[..<colon]) }
        return authority
    }

    /// The URL, such as `https://api.ecr.us-east-1.amazonaws.com`.
    package var description: String { "\(scheme)://\(authority)\(basePath)" }
}
