// The failures of a helper action, in the protocol's terms.

/// A failed helper action: the text for stdout (what clients read) and, for ECR hosts, the real
/// cause for stderr (what the user sees).
public struct HelperError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: Sendable, Equatable {
        /// No credentials for this server; clients fall back to anonymous access.
        case notFound
        /// Empty input where a server URL was expected.
        case missingServerURL
        /// `store` without a user name.
        case missingUsername
        /// Input that is not what the action takes.
        case invalidInput
        /// The action could not be carried out.
        case failed
    }

    /// The not-found text docker, podman and the Python `docker` package compare against.
    public static let notFoundText = "credentials not found in native keychain"

    /// The kind of failure.
    public var code: Code
    /// The text for stdout.
    public var message: String
    /// The cause for stderr, if the user should see one.
    public var cause: String?

    /// Creates an error.
    public init(_ code: Code, message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    /// "Not found", with an optional explanation for stderr.
    public static func notFound(cause: String? = nil) -> HelperError {
        HelperError(.notFound, message: notFoundText, cause: cause)
    }

    /// The protocol's text for an empty server URL.
    public static let missingServerURL = HelperError(.missingServerURL, message: "no credentials server URL")
    /// The protocol's text for a store without a user name.
    public static let missingUsername = HelperError(.missingUsername, message: "no credentials username")

    /// The stdout text.
    public var description: String { message }
}
