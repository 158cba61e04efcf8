// Time as an injectable dependency: the current time and sleeping.

#if canImport(Glibc)
import Glibc
#endif

/// The source of the current time and of pauses between retries.
package protocol WallClock: Sendable {
    /// The current time.
    func now() -> Timestamp
    /// Pauses the calling thread.
    func sleep(seconds: Double)
}

/// The system clock.
package struct SystemClock: WallClock {
    /// Creates the system clock.
    package init() {}

    /// The current time from `clock_gettime(CLOCK_REALTIME)`.
    package func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(timeIntervalSince1970: Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9)
    }

    /// Sleeps with `nanosleep`, resuming after signals until the time has passed.
    package func sleep(seconds: Double) {
        guard seconds > 0 else { return }
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR {
            request = remaining
        }
    }
}

/// Monotonic time for measuring elapsed time and deadlines, unaffected by clock changes.
package enum MonotonicTime {
    /// Seconds on `CLOCK_MONOTONIC`.
    package static func seconds() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
