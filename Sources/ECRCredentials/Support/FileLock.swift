// An exclusive, time-bounded lock between processes, released when its holder dies.
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock(2)` on a lock file.
///
/// The kernel drops the lock when the holding process exits or is killed, so a crashed
/// holder never blocks anyone. Waiting is bounded: `acquire` gives up at its deadline.
/// Not thread-safe; each instance belongs to one caller.
package final class FileLock {
    /// Why a lock could not be taken.
    package struct TimedOut: Error, Sendable, CustomStringConvertible {
        /// The lock file.
        package var path: String
        /// The seconds waited.
        package var waited: Double
        /// A readable explanation.
        package var description: String {
            "timed out after \(Int(waited.rounded())) s waiting for the lock \(path)"
        }
    }

    private let descriptor: Int32
    /// The lock file.
    package let path: String
    /// The seconds spent waiting for another holder; 0 when the lock was free.
    package let waited: Double
    /// The lock file's time when this instance created it; nil when it existed.
    private let createdAt: Double?

    /// Opens (creating, mode 0600) the lock file and waits at most `timeout` seconds for the lock.
    /// - Parameter clock: what the pauses between tries sleep on; the wait is the sum of them.
    /// - Throws: `SystemError` if the file cannot be opened, `FileLock.TimedOut` on timeout.
    package init(path: String, timeout: Double, clock: any WallClock = SystemClock()) throws {
        self.path = path
        var descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        var created = descriptor >= 0
        if descriptor < 0, errno == EEXIST {
            descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            created = false
        }
        guard descriptor >= 0 else { throw SystemError.current("open lock", path: path) }
        self.descriptor = descriptor
        createdAt = created ? Self.modified(descriptor) : nil
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
                throw TimedOut(path: path, waited: waited)
            }
            let step = min(pause, timeout - waited)
            clock.sleep(seconds: step)
            waited += step
            pause = min(pause * 2, 0.02)
        }
        self.waited = waited
    }

    /// Marks the lock file changed (its modification time set to now, `futimens`): the holder
    /// changed what the lock guards, so a process that takes the lock next reads it again.
    package func markChanged() {
        _ = futimens(descriptor, nil)
    }

    /// Whether the lock file was marked changed (or created) at or after `seconds` since 1970,
    /// by the system clock (the file system's); true when that cannot be told.
    /// A lock file this instance created counts only once marked after its creation.
    package func changed(since seconds: Double) -> Bool {
        guard let modified = Self.modified(descriptor) else { return true }
        if let createdAt { return modified > createdAt }
        return modified >= seconds
    }

    /// A file's modification time (seconds since 1970); nil when `fstat` fails.
    private static func modified(_ descriptor: Int32) -> Double? {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
