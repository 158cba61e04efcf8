// Errors that carry the error that caused them, and the walk down that chain.

/// An error that wraps another: the cause it carries as a value, so that decisions (retry, fall
/// back, which hint to print) are made on the original error however many layers it crossed.
package protocol WrappingError: Error {
    /// The error that caused this one, if any.
    var underlyingError: (any Error)? { get }
}


extension CredentialError: WrappingError {
    /// `underlying`.
    package var underlyingError: (any Error)? { underlying }
}

extension HelperError: WrappingError {
    /// `underlying`.
    package var underlyingError: (any Error)? { underlying }
}

extension CredentialProviderPlugin.NoCredentials: WrappingError {
    /// `underlying`.
    package var underlyingError: (any Error)? { underlying }
}

extension ClientSetup.PlanningFailed: WrappingError {
    /// `underlying`.
    package var underlyingError: (any Error)? { underlying }
}
