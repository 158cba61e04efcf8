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

    /// Opens (creating, mode 0600, unless `creating` is false) the lock file and waits at most
    /// `timeout` seconds for the lock. The file must be a regular file the user owns, reached
    /// without a symbolic link (`O_NOFOLLOW`, then `fstat` on the descriptor).
    /// - Parameter clock: what the pauses between tries sleep on; the wait is the sum of them.
    /// - Throws: `SystemError` if the file cannot be opened (`ENOENT` when it is missing and
    ///   `creating` is false), `PrivateFile.Refusal` for a symbolic link, a file that is not
    ///   regular or one owned by someone else, `FileLock.TimedOut` on timeout.
    package init(path: String, timeout: Double, clock: any WallClock = SystemClock(), creating: Bool = true) throws {
        self.path = path
        let flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY
        var descriptor = creating ? open(path, flags | O_CREAT | O_EXCL, 0o600) : -1
        var created = descriptor >= 0
        if descriptor < 0, !creating || errno == EEXIST {
            descriptor = open(path, flags | (creating ? O_CREAT : 0), 0o600)
            created = false
        }
        guard descriptor >= 0 else {
            if errno == ELOOP { throw PrivateFile.Refusal(path: path, reason: "it is a symbolic link, not a lock file of this tool") }
            throw SystemError.current("open lock", path: path)
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let failure = SystemError.current("stat lock", path: path)
            close(descriptor)
            throw failure
        }
        guard (info.st_mode & S_IFMT) == S_IFREG, info.st_uid == geteuid() else {
            close(descriptor)
            let reason = (info.st_mode & S_IFMT) != S_IFREG
                ? "it is \(PrivateFile.kindName(info.st_mode)), not a regular file"
                : "it is owned by uid \(info.st_uid), not by you (uid \(geteuid()))"
            throw PrivateFile.Refusal(path: path, reason: reason)
        }
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
