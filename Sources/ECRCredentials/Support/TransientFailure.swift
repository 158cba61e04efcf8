// Passing or final: the one question a failure must answer before anything falls back or retries.

/// An error that knows whether the same call may succeed a little later.
///
/// Passing failures are HTTP 5xx answers, throttling, timeouts, and refused or reset
/// connections. Final ones are denied access, bad or expired credentials and configuration
/// errors. Wrapping errors (`CredentialError`, `HelperError`) answer from the error they carry,
/// so the decision is made on the original value however many layers it crossed.
public protocol TransientFailure: Error {
    /// Whether trying again later may succeed.
    var isTransient: Bool { get }
}

/// Classifies any error: `Failure.isTransient(error)`.
public enum Failure {
    /// Whether `error` is a passing failure; an error that does not classify itself is final.
    public static func isTransient(_ error: (any Error)?) -> Bool {
        guard let error else { return false }
        return (error as? any TransientFailure)?.isTransient ?? false
    }
}

extension HTTPTransportError: TransientFailure {}

extension AWSServiceError: TransientFailure {
    /// Throttling, server faults and 5xx answers: the same as `isRetryable`.
    public var isTransient: Bool { isRetryable }
}
