// The failures of a helper action, in the protocol's terms.

/// A failed helper action: the text for stdout (what clients read) and, for ECR hosts, the real
/// cause for stderr (what the user sees).
package struct HelperError: Error, Sendable, CustomStringConvertible, TransientFailure {
    /// The kind of failure: an open set, so that a new kind breaks no caller;
    /// compare with `==`, and switch over it with a `default`.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The kind's name, for example "notFound".
        package let name: String

        private init(_ name: String) {
            self.name = name
        }

        /// No credentials for this server; clients fall back to anonymous access.
        package static let notFound = Code("notFound")
        /// Empty input where a server URL was expected.
        package static let missingServerURL = Code("missingServerURL")
        /// `store` without a user name.
        package static let missingUsername = Code("missingUsername")
        /// `store` without a secret, or with an empty one.
        package static let missingSecret = Code("missingSecret")
        /// Input that is not what the action takes.
        package static let invalidInput = Code("invalidInput")
        /// The action could not be carried out.
        package static let failed = Code("failed")

        /// The name.
        package var description: String { name }
    }

    /// The not-found text docker, podman and the Python `docker` package compare against.
    package static let notFoundText = "credentials not found in native keychain"

    /// The kind of failure.
    package var code: Code
    /// The text for stdout.
    package var message: String
    /// The cause for stderr, if the user should see one.
    package var cause: String?
    /// The error underneath, as a value: what the token service or a store threw.
    package var underlying: (any Error)?

    package init(_ code: Code, message: String, cause: String? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
        self.underlying = underlying
    }

    /// "Not found", with an optional explanation for stderr and the error behind it.
    package static func notFound(cause: String? = nil, underlying: (any Error)? = nil) -> HelperError {
        HelperError(.notFound, message: notFoundText, cause: cause, underlying: underlying)
    }

    /// Whether the error underneath is passing (throttling, timeouts, 5xx).
    package var isTransient: Bool { ErrorChain.isTransient(underlying) }

    /// The protocol's text for an empty server URL.
    package static let missingServerURL = HelperError(.missingServerURL, message: "no credentials server URL")
    /// The protocol's text for a store without a user name.
    package static let missingUsername = HelperError(.missingUsername, message: "no credentials username")
    /// The text for a store without a secret (docker, podman and nerdctl always send one).
    package static let missingSecret = HelperError(.missingSecret, message: "no credentials secret (store needs a non-empty \"Secret\": the password or identity token)")

    /// The stdout text.
    package var description: String { message }
}
