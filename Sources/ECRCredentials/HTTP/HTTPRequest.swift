// An HTTP request as this tool sends it: small, complete, with its body in memory.

/// One HTTP header line.
package struct HTTPHeader: Sendable, Equatable {
    /// The header name, as it will be sent.
    package var name: String
    /// The header value.
    package var value: String

    package init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// An HTTP request with the parts SigV4 signs kept apart: authority, path and query.
package struct HTTPRequest: Sendable, Equatable {
    /// `GET`, `POST`, `PUT`, ...
    package var method: String
    /// `https` or `http`.
    package var scheme: String
    /// `host` or `host:port`, exactly as sent in the `Host` header.
    package var authority: String
    /// The path, not yet percent-encoded, starting with `/`.
    package var path: String
    /// Query parameters, not yet percent-encoded, in order.
    package var query: [(name: String, value: String)]
    /// Header lines, in order.
    package var headers: [HTTPHeader]
    /// The body.
    package var body: [UInt8]

    package init(method: String, scheme: String = "https", authority: String, path: String = "/",
                query: [(name: String, value: String)] = [], headers: [HTTPHeader] = [], body: [UInt8] = []) {
        self.method = method
        self.scheme = scheme
        self.authority = authority
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    /// Creates a request to an endpoint, joining its base path and `path`.
    package init(method: String, endpoint: Endpoint, path: String = "/", headers: [HTTPHeader] = [], body: [UInt8] = []) {
        let joined = endpoint.basePath.isEmpty ? path : endpoint.basePath + (path == "/" ? "/" : path)
        self.init(method: method, scheme: endpoint.scheme, authority: endpoint.authority, path: joined,
                  headers: headers, body: body)
    }

    /// The first value of a header, matched without regard to case.
    package func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// Splits a raw query string (`a=1&b=%20`) into decoded name/value pairs, in order.
    package static func queryItems(_ query: Substring) -> [(name: String, value: String)] {
        query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (PercentEncoding.decode(parts[0]), parts.count > 1 ? PercentEncoding.decode(parts[1]) : "")
        }
    }

    /// The URL to hand to the transport, with path and query percent-encoded.
    package var url: String {
        var url = "\(scheme)://\(authority)\(PercentEncoding.encode(path, keepingSlashes: true))"
        if !query.isEmpty {
            url += "?" + query.map { "\(PercentEncoding.encode($0.name))=\(PercentEncoding.encode($0.value))" }
                .joined(separator: "&")
        }
        return url
    }

    package static func == (lhs: HTTPRequest, rhs: HTTPRequest) -> Bool {
        lhs.method == rhs.method && lhs.scheme == rhs.scheme && lhs.authority == rhs.authority && lhs.path == rhs.path
            && lhs.query.elementsEqual(rhs.query, by: { $0.name == $1.name && $0.value == $1.value })
            && lhs.headers == rhs.headers && lhs.body == rhs.body
    }
}

/// An HTTP response.
package struct HTTPResponse: Sendable, Equatable {
    /// The status code.
    package var status: Int
    /// The header lines.
    package var headers: [HTTPHeader]
    /// The body.
    package var body: [UInt8]

    package init(status: Int, headers: [HTTPHeader] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of a header, matched without regard to case.
    package func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// The RFC 3986 percent-encoding AWS uses: everything but `A-Z a-z 0-9 - _ . ~` is encoded.
package enum PercentEncoding {
    /// Encodes the UTF-8 bytes of `text`; `/` is kept when `keepingSlashes` (for paths).
    package static func encode(_ text: String, keepingSlashes: Bool = false) -> String {
        var output = ""
        output.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) || (keepingSlashes && byte == UInt8(ascii: "/")) {
                output.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                output += "%" + hexDigits(byte)
            }
        }
        return output
    }

    /// Decodes `%XX` sequences; other bytes pass through; `+` is kept as is.
    package static func decode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
               let high = hexValue(iterator[iterator.startIndex]), let low = hexValue(iterator[iterator.startIndex + 1]) {
                bytes.append(high << 4 | low)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static func hexDigits(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
