// Randomness as an injectable dependency: the jitter of retry pauses.

/// A source of uniformly distributed numbers, so unit tests can fix the jitter of retries.
package protocol RandomSource: Sendable {
    /// A number drawn uniformly from 0 up to (not including) 1.
    func unitInterval() -> Double
}

/// The system's cryptographic generator (`getrandom`).
package struct SystemRandomSource: RandomSource {
    /// Creates the source.
    package init() {}

    /// A draw from `SystemRandomNumberGenerator`.
    package func unitInterval() -> Double {
        var generator = SystemRandomNumberGenerator()
        return Double.random(in: 0..<1, using: &generator)
    }
}
