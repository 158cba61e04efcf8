// When and how long to wait before trying an AWS call again.

/// Retries with capped exponential backoff and full jitter.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included. Default 3.
    public var maximumAttempts: Int
    /// The backoff before the second attempt is drawn from 0..<`baseDelay` seconds. Default 0.2.
    public var baseDelay: Double
    /// No single pause is longer than this. Default 2 s.
    public var maximumDelay: Double

    /// Creates a policy; the defaults follow the AWS SDKs' standard mode, a little quicker.
    public init(maximumAttempts: Int = 3, baseDelay: Double = 0.2, maximumDelay: Double = 2) {
        self.maximumAttempts = maximumAttempts
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
    }

    /// The pause before attempt `attempt + 1`, after `attempt` failures (1-based).
    public func delay(afterAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Double {
        let ceiling = min(maximumDelay, baseDelay * Double(1 << min(attempt - 1, 16)))
        return Double.random(in: 0..<max(ceiling, .leastNonzeroMagnitude), using: &generator)
    }
}
