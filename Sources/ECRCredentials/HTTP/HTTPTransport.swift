// The boundary between this tool and the network.

/// Sends one HTTP request and returns the response; the only way this library reaches the network.
package protocol HTTPTransport: Sendable {
    /// Sends `request`, waiting at most the given times.
    /// - Throws: `HTTPTransportError` when no response arrived.
    func send(_ request: HTTPRequest, timeouts: HTTPTimeouts) throws -> HTTPResponse
}

/// How long one attempt may take.
public struct HTTPTimeouts: Sendable, Equatable {
    /// Seconds to establish the connection (TCP and TLS).
    public var connect: Double
    /// Seconds for the whole exchange.
    public var total: Double

    /// Creates timeouts; the defaults suit AWS APIs: 3 s to connect, 10 s in all.
    public init(connect: Double = 3, total: Double = 10) {
        self.connect = connect
        self.total = total
    }
}

/// Why a request got no response.
public struct HTTPTransportError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure: an open set, so that a new kind breaks no caller;
    /// compare with `==`, and switch over it with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The kind's name, for example "libraryUnavailable".
        public let name: String

        private init(_ name: String) {
            self.name = name
        }

        /// The HTTP library could not be loaded.
        public static let libraryUnavailable = Code("libraryUnavailable")
        /// The host name did not resolve.
        public static let hostNotFound = Code("hostNotFound")
        /// The connection was refused or could not be made.
        public static let connectionFailed = Code("connectionFailed")
        /// A timeout expired.
        public static let timedOut = Code("timedOut")
        /// TLS failed (certificate, handshake).
        public static let tls = Code("tls")
        /// The answer's body was larger than the transport keeps (`detail` says the limit).
        public static let responseTooLarge = Code("responseTooLarge")
        /// Anything else.
        public static let other = Code("other")

        /// The name.
        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// The URL that failed, without query.
    public var url: String
    /// The transport's own explanation.
    public var detail: String

    package init(_ code: Code, url: String, detail: String) {
        self.code = code
        self.url = url
        self.detail = detail
    }

    /// Whether trying again may help.
    public var isTransient: Bool {
        code == .connectionFailed || code == .timedOut || code == .other || code == .hostNotFound
    }

    /// For example "cannot reach https://api.ecr.us-east-1.amazonaws.com/: Connection refused".
    public var description: String {
        switch code {
        case .libraryUnavailable: return detail
        case .timedOut: return "no answer from \(url) in time: \(detail)"
        case .tls: return "TLS failed with \(url): \(detail)"
        case .responseTooLarge: return "\(url) answered with more than \(detail); not read"
        default: return "cannot reach \(url): \(detail)"
        }
    }
}
