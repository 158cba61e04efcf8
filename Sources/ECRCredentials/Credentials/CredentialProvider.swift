// The boundary between this tool and the sources of AWS credentials.

/// A configured source of AWS credentials.
///
/// A provider is chosen from configuration alone, without network calls, and knows who it stands
/// for (`identity`) before it is asked for credentials. That is what lets a cache hit skip the
/// credential work entirely, and keeps one identity's tokens from another.
package protocol CredentialProvider: Sendable {
    /// What the provider is, for messages: "environment variables", "profile dev (static keys)".
    var name: String { get }
    /// Who the credentials belong to, from configuration only: key ids, profile and role names,
    /// endpoints. Only ever hashed into cache keys, never shown.
    var identity: String { get }
    /// The credentials; may call the network.
    /// - Throws: `CredentialError` naming this provider and the cause.
    func credentials() throws -> AWSCredentials
}

/// Why no usable credentials were found.
///
/// It keeps the error that caused it (an STS throttling answer, a metadata-service timeout, a
/// child process that was stopped) as a value, so that whether the failure is passing is
/// decided from that value and not from the text.
public struct CredentialError: Error, Sendable, CustomStringConvertible, TransientFailure {
    /// The kind of failure: an open set, so that a new kind breaks no caller;
    /// compare with `==`, and switch over it with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The kind's name, for example "notConfigured".
        public let name: String

        private init(_ name: String) {
            self.name = name
        }

        /// No source of credentials is configured.
        public static let notConfigured = Code("notConfigured")
        /// A source is configured but its settings are wrong.
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// A configured source failed to deliver credentials.
        public static let providerFailed = Code("providerFailed")

        /// The name.
        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// The explanation, naming the provider and what to do.
    public var message: String
    /// The error underneath, when there is one: `AWSServiceError`, `HTTPTransportError`, ...
    package var underlying: (any Error)?
    /// The profile whose IAM Identity Center login must be renewed (`aws sso login --profile`),
    /// when that is what it takes.
    public var ssoLoginRequired: String?

    /// - Parameters:
    ///   - underlying: the error that caused it; decides `isTransient`.
    ///   - ssoLoginRequired: the profile whose SSO login must be renewed, when that is the fix.
    package init(_ code: Code, _ message: String, underlying: (any Error)? = nil, ssoLoginRequired: String? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
        self.ssoLoginRequired = ssoLoginRequired
    }

    /// The explanation.
    public var description: String { message }

    /// Passing when what caused it is passing (STS throttled, metadata service timing out);
    /// never for configuration errors.
    public var isTransient: Bool {
        code != .invalidConfiguration && ErrorChain.isTransient(underlying)
    }

    /// The trimmed content of a token file that rotates (web identity, container authorization),
    /// read afresh on every call.
    /// - Parameters:
    ///   - what: the file's role for messages ("web identity token").
    ///   - provider: the provider's name for messages.
    /// - Throws: a `.providerFailed` error when the file is missing, unreadable or empty.
    static func readTokenFile(_ path: String, what: String, provider: String) throws -> String {
        let bytes: [UInt8]?
        do {
            bytes = try PrivateFile.read(path)
        } catch {
            throw CredentialError(.providerFailed, "\(provider): \(error)", underlying: error)
        }
        guard let bytes else { throw CredentialError(.providerFailed, "\(provider): the \(what) file \(path) does not exist") }
        let token = String(decoding: bytes, as: UTF8.self).trimmingASCIIWhitespace()
        guard !token.isEmpty else { throw CredentialError(.providerFailed, "\(provider): the \(what) file \(path) is empty") }
        return token
    }

    /// The optional `Expiration` a credential source sent, parsed as ISO 8601.
    /// - Throws: a `.providerFailed` error naming `source` when it is not a time.
    static func expiration(_ text: String?, from source: String) throws -> Timestamp? {
        guard let text else { return nil }
        guard let date = Timestamp.parseISO8601(text) else {
            throw CredentialError(.providerFailed, "\(source) gave an Expiration that is not an ISO 8601 time: \(text)")
        }
        return date
    }
}

/// Credentials given directly: environment variables or a profile's static keys.
package struct StaticCredentialProvider: CredentialProvider {
    /// Where they came from, for messages.
    package var name: String
    private let value: AWSCredentials
    private let now: @Sendable () -> Double

    /// Creates a provider of fixed credentials.
    package init(name: String, credentials: AWSCredentials, clock: any WallClock = SystemClock()) {
        self.name = name
        self.value = credentials
        self.now = { clock.now().timeIntervalSince1970 }
    }

    /// The access key id, secret and session token: rotating any of them is a new identity.
    package var identity: String {
        "static\0\(value.accessKeyID)\0\(value.secretAccessKey)\0\(value.sessionToken ?? "")"
    }

    /// The credentials, unless they carry an expiry that has passed.
    package func credentials() throws -> AWSCredentials {
        if let expiration = value.expiration, expiration.timeIntervalSince1970 <= now() {
            throw CredentialError(.providerFailed,
                                  "the credentials from \(name) expired at \(Timestamp.iso8601(expiration)); refresh them")
        }
        return value
    }
}
