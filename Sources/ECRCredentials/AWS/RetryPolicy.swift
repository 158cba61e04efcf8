// When and how long to wait before trying an AWS call again.

/// Retries with capped exponential backoff and full jitter.
package struct RetryPolicy: Sendable {
    /// Attempts in all, the first included. Default 3.
    package var maximumAttempts: Int
    /// The backoff before the second attempt is drawn from 0..<`baseDelay` seconds. Default 0.2.
    package var baseDelay: Double
    /// No single pause is longer than this. Default 2 s.
    package var maximumDelay: Double
    /// How throttling answers ("Rate exceeded", HTTP 429) are retried; nil (the default): like
    /// any other passing fault, within `maximumAttempts`.
    package var throttling: ThrottlingBackoff?

    /// Creates a policy; the defaults follow the AWS SDKs' standard mode, a little quicker.
    package init(maximumAttempts: Int = 3, baseDelay: Double = 0.2, maximumDelay: Double = 2, throttling: ThrottlingBackoff? = nil) {
        self.maximumAttempts = maximumAttempts
        self.baseDelay = baseDelay
        self.maximumDelay = maximumDelay
        self.throttling = throttling
    }

    /// The pause before attempt `attempt + 1`, after `attempt` failures (1-based).
    package func delay(afterAttempt attempt: Int, random: any RandomSource) -> Double {
        let ceiling = min(maximumDelay, baseDelay * Double(1 << min(attempt - 1, 16)))
        return random.unitInterval() * ceiling
    }
}

/// Retries of a throttled call until a deadline, with full jitter over long windows.
///
/// A throttled answer means the account's token bucket is empty: a whole fleet is asking at
/// once, and a retry within a second or two would only be throttled again. So the pause after
/// the n-th throttled attempt is drawn uniformly from 0 up to `firstWindow` × 2^(n-1) seconds,
/// cut to the time left before the deadline (less `reserve`, the room an attempt needs), and the
/// callers spread over the whole window, at about the rate the bucket refills. Retrying stops
/// when the window left is shorter than `minimumWindow`, or after `maximumAttempts` attempts.
/// A `Retry-After` from the service is honoured: the pause is never shorter.
package struct ThrottlingBackoff: Sendable, Equatable {
    /// No throttled retry starts after this time.
    package var deadline: Timestamp
    /// The window of the first pause, in seconds. Default 40.
    package var firstWindow: Double
    /// A window shorter than this (seconds) is not worth a retry. Default 2.
    package var minimumWindow: Double
    /// Seconds kept free before the deadline for the last attempt. Default 1.
    package var reserve: Double
    /// Attempts in all while throttled, the first included. Default 6.
    package var maximumAttempts: Int

    /// The shortest budget (seconds) that holds one retry with the default window and reserve:
    /// a shorter one gets the three quick tries of a budget of 0, never fewer.
    package static let minimumBudget = 3.0

    /// The backoff for a throttling budget of `budget` seconds from `start`; nil when the budget
    /// is shorter than `minimumBudget` (the quick tries apply).
    package static func forBudget(_ budget: Double, from start: Double) -> ThrottlingBackoff? {
        budget >= minimumBudget ? ThrottlingBackoff(deadline: Timestamp(timeIntervalSince1970: start + budget)) : nil
    }

    /// Creates a backoff that ends at `deadline`.
    package init(deadline: Timestamp, firstWindow: Double = 40, minimumWindow: Double = 2, reserve: Double = 1, maximumAttempts: Int = 6) {
        self.deadline = deadline
        self.firstWindow = firstWindow
        self.minimumWindow = minimumWindow
        self.reserve = reserve
        self.maximumAttempts = maximumAttempts
    }

    /// The pause before the next attempt, after `attempt` throttled attempts (1-based), at `now`;
    /// nil when no retry fits before the deadline.
    /// - Parameter retryAfter: the seconds the service asked to wait, when it said.
    package func delay(afterAttempt attempt: Int, now: Timestamp, retryAfter: Double? = nil, random: any RandomSource) -> Double? {
        guard attempt < maximumAttempts else { return nil }
        let left = deadline.timeIntervalSince(now) - reserve
        let window = min(firstWindow * Double(1 << min(max(attempt - 1, 0), 16)), left)
        guard window >= minimumWindow else { return nil }
        let pause = max(random.unitInterval() * window, retryAfter ?? 0)
        return pause <= left ? pause : nil
    }
}
