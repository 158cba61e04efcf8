// An exclusive, time-bounded lock between processes, released when its holder dies.
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock(2)` on a lock file.
///
/// The kernel drops the lock when the holding process exits or is killed, so a crashed
/// holder never blocks anyone. Waiting is bounded: `acquire` gives up at its deadline.
/// Not thread-safe; each instance belongs to one caller.
public final class FileLock {
    /// Why a lock could not be taken.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// The lock file.
        public var path: String
        /// The seconds waited.
        public var waited: Double
        /// A readable explanation.
        public var description: String {
            "timed out after \(Int(waited.rounded())) s waiting for the lock \(path)"
        }
    }

    private let descriptor: Int32
    /// The lock file.
    public let path: String
    /// The seconds spent waiting for another holder; 0 when the lock was free.
    public let waited: Double

    /// Opens (creating, mode 0600) the lock file and waits at most `timeout` seconds for the lock.
    /// - Parameter clock: what the pauses between tries sleep on; the wait is the sum of them.
    /// - Throws: `SystemError` if the file cannot be opened, `FileLock.Failure` on timeout.
    public init(path: String, timeout: Double, clock: any WallClock = SystemClock()) throws {
        self.path = path
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { throw SystemError.current("open lock", path: path) }
        var waited = 0.0
        var pause = 0.001
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let failure = errno
            guard failure == EWOULDBLOCK || failure == EINTR else {
                close(descriptor)
                throw SystemError("lock", path: path, code: failure)
            }
            guard waited < timeout else {
                close(descriptor)
                throw Failure(path: path, waited: waited)
            }
            let step = min(pause, timeout - waited)
            clock.sleep(seconds: step)
            waited += step
            pause = min(pause * 2, 0.02)
        }
        self.waited = waited
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
