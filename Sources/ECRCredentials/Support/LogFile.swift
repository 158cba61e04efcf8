// A private, size-bounded log file: where diagnostics go when docker hides the helper's stderr.
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Appends timestamped lines to a 0600 file; at `maximumSize` bytes the file becomes `<file>.1`
/// (replacing the previous one) and a new one starts, so the log never holds more than twice
/// that. When `<file>.1` cannot be replaced (a directory stands there, the directory is
/// read-only), the file is emptied instead and `append` says why, so the file never exceeds
/// `maximumSize` either way. Only the default directory (`$XDG_STATE_HOME/docker-credential-ecr`)
/// is created, 0700; a file named by the user goes in an existing directory, which is left as it
/// is. Writing never fails a request: when the log cannot be written, one warning on stderr says why.
package struct LogFile: Sendable {
    /// Why the full log could not become `<file>.1`; the log was emptied instead.
    package struct RotationFailure: Error, Sendable, CustomStringConvertible {
        /// The log file.
        package var path: String
        /// The bound the log was kept under.
        package var maximumSize: Int
        /// The failed `rename(2)`.
        package var underlying: SystemError

        /// For example "cannot rotate the log /home/u/log: /home/u/log.1 is a directory; ...".
        package var description: String {
            let size = maximumSize % (1 << 20) == 0 ? "\(maximumSize >> 20) MiB" : "\(maximumSize) bytes"
            let directory = [EISDIR, ENOTEMPTY, EEXIST].contains(underlying.code)
            let why = directory ? "\(path).1 is a directory"
                : "it cannot be renamed to \(path).1: \(String(cString: strerror(underlying.code)))"
            let remedy = directory ? "remove or rename \(path).1 so that the previous lines are kept"
                : "let it be renamed, or set DOCKER_CREDENTIAL_ECR_LOG_FILE to a log in a directory of yours"
            return "cannot rotate the log \(path): \(why); the log was emptied instead, to keep it under \(size); \(remedy)"
        }
    }

    /// The file.
    package let path: String
    /// The size at which the file is rotated. Default 1 MiB.
    package let maximumSize: Int
    /// Whether the file's directory is this tool's own, to create (0700) when missing.
    package let ownsDirectory: Bool

    /// Creates a log at `path` (absolute).
    package init(path: String, maximumSize: Int = 1 << 20, ownsDirectory: Bool = false) {
        self.path = path
        self.maximumSize = maximumSize
        self.ownsDirectory = ownsDirectory
    }

    /// `$XDG_STATE_HOME/docker-credential-ecr/log` (`~/.local/state/...`).
    package static func defaultPath(environment: Environment) -> String {
        environment.stateHome + "/docker-credential-ecr/log"
    }

    /// Appends `text` (whole lines), each line prefixed with the time and the process id.
    ///
    /// When the lines would take the file past `maximumSize` it becomes `<file>.1`; when that
    /// rename fails, the file (the descriptor already checked to be the user's regular file,
    /// never a path followed again) is emptied and starts with a line saying why. The failure
    /// is returned only by the append that found the log full, and emptying it means the next
    /// attempt comes after another `maximumSize` bytes: a caller that warns on it warns once
    /// per `maximumSize` of logging, not on every line nor in every process (`get` runs once per
    /// docker call, and kubelet keeps all of a plugin's stderr).
    /// - Returns: why the log could not be rotated, when it was emptied instead; nil otherwise.
    /// - Throws: why the log cannot be written (not a regular file of the user's, a link, no
    ///   such directory, ...).
    @discardableResult
    package func append(_ text: String) throws -> RotationFailure? {
        guard path.hasPrefix("/") else {
            throw PrivateFile.Refusal(path: path, reason: "a log file needs an absolute path")
        }
        let prefix = "\(Timestamp.iso8601(SystemClock().now())) [\(getpid())] "
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map { "\(prefix)\($0)\n" }.joined()
        var bytes = Array(lines.utf8)
        if bytes.count > maximumSize {
            // One write larger than the whole log: its start, cut between characters.
            var end = max(0, maximumSize - 1)
            while end > 0, bytes[end] & 0xC0 == 0x80 { end -= 1 }
            bytes = Array(bytes[..<end]) + [0x0a]
        }
        if ownsDirectory, let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try PrivateFile.makeDirectory(String(path[..<slash]))
        }
        let (first, info) = try open()
        var descriptor = first
        var failure: RotationFailure?
        if Int(info.st_size) + bytes.count > maximumSize {
            let renamed = rename(path, path + ".1") == 0
            let code = errno
            if renamed || code == ENOENT || !names(info) {
                // Rotated, here or by another process meanwhile: append to the new file.
                Glibc.close(descriptor)
                descriptor = try open().descriptor
            } else {
                let reason = RotationFailure(path: path, maximumSize: maximumSize, underlying: SystemError("rename", path: path, code: code))
                guard ftruncate(descriptor, 0) == 0 else {
                    let error = SystemError.current("truncate", path: path)
                    Glibc.close(descriptor)
                    throw error
                }
                let note = Array("\(prefix)\(Diagnostics.printable("\(reason)"))\n".utf8)
                if note.count + bytes.count <= maximumSize { bytes = note + bytes }
                failure = reason
            }
        }
        defer { Glibc.close(descriptor) }
        _ = bytes.withUnsafeMutableBytes { write(descriptor, $0.baseAddress, $0.count) }
        return failure
    }

    /// Whether `path` still names the file `info` describes (no other process rotated it away).
    private func names(_ info: stat) -> Bool {
        var current = stat()
        return lstat(path, &current) == 0 && current.st_dev == info.st_dev && current.st_ino == info.st_ino
    }

    /// Opens the file for appending: a regular file of the user's, never through a link, 0600.
    private func open() throws -> (descriptor: Int32, info: stat) {
        let descriptor = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0o600)
        guard descriptor >= 0 else {
            if errno == ELOOP { throw PrivateFile.Refusal(path: path, reason: "it is a symbolic link") }
            throw SystemError.current("open", path: path)
        }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_uid == geteuid() else {
            Glibc.close(descriptor)
            throw PrivateFile.Refusal(path: path, reason: "it is not a regular file of yours")
        }
        if info.st_mode & 0o077 != 0 { fchmod(descriptor, 0o600) }
        return (descriptor, info)
    }
}

/// Says once per process that the log cannot be written.
private final class LogProblem: Sendable {
    private let reported = Mutex(false)

    func report(_ problem: any Error, program: String) {
        let first = reported.withLock { reported in
            defer { reported = true }
            return !reported
        }
        if first { Diagnostics.standardError("\(program): cannot write the log: \(Diagnostics.printable("\(problem)"))\n") }
    }
}

extension Diagnostics {
    /// Diagnostics as the environment asks: the level of `DOCKER_CREDENTIAL_ECR_LOG`, and the
    /// destination of `DOCKER_CREDENTIAL_ECR_LOG_DESTINATION` (`stderr`, the default, or `file`;
    /// `DOCKER_CREDENTIAL_ECR_LOG_FILE` names the file and implies `file`). With a file, every
    /// line goes there, and warnings still go to stderr too, for the clients that show it.
    package init(environment: Environment, program: String = "docker-credential-ecr") {
        let level = Diagnostics.level(from: environment)
        let explicit = environment["DOCKER_CREDENTIAL_ECR_LOG_FILE"]
        guard explicit != nil || environment["DOCKER_CREDENTIAL_ECR_LOG_DESTINATION"]?.lowercased() == "file" else {
            self.init(level: level, program: program)
            return
        }
        let log = explicit.map { LogFile(path: environment.expandingTilde($0)) }
            ?? LogFile(path: LogFile.defaultPath(environment: environment), ownsDirectory: true)
        let problem = LogProblem()
        self.init(level: level, program: program, sink: { line in
            do {
                // Rare by design: only the append that finds the log full and cannot rotate it.
                if let failure = try log.append(line) {
                    Diagnostics.standardError("\(program): \(Diagnostics.printable("\(failure)"))\n")
                }
            } catch {
                problem.report(error, program: program)
            }
            if !line.hasPrefix("\(program): debug: ") { Diagnostics.standardError(line) }
        })
    }
}
