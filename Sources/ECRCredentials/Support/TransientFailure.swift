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


extension HTTPTransportError: TransientFailure {}

extension AWSServiceError: TransientFailure {
    /// Throttling, server faults and 5xx answers: the same as `isRetryable`.
    public var isTransient: Bool { isRetryable }
}
