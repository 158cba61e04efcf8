// A private, size-bounded log file: where diagnostics go when docker hides the helper's stderr.
import FoundationEssentials
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Appends timestamped lines to a 0600 file; at `maximumSize` bytes the file becomes `<file>.1`
/// (replacing the previous one) and a new one starts, so the log never holds more than twice
/// that. Only the default directory (`$XDG_STATE_HOME/docker-credential-ecr`) is created, 0700;
/// a file named by the user goes in an existing directory, which is left as it is. Writing never
/// fails a request: when the log cannot be written, one warning on stderr says why.
public struct LogFile: Sendable {
    /// The file.
    public let path: String
    /// The size at which the file is rotated. Default 1 MiB.
    public let maximumSize: Int
    /// Whether the file's directory is this tool's own, to create (0700) when missing.
    public let ownsDirectory: Bool

    /// Creates a log at `path` (absolute).
    public init(path: String, maximumSize: Int = 1 << 20, ownsDirectory: Bool = false) {
        self.path = path
        self.maximumSize = maximumSize
        self.ownsDirectory = ownsDirectory
    }

    /// `$XDG_STATE_HOME/docker-credential-ecr/log` (`~/.local/state/...`).
    public static func defaultPath(environment: Environment) -> String {
        environment.stateHome + "/docker-credential-ecr/log"
    }

    /// Appends `text` (whole lines), each line prefixed with the time and the process id.
    /// - Throws: why the log cannot be written (not a regular file of the user's, a link, no
    ///   such directory, ...).
    public func append(_ text: String) throws {
        guard path.hasPrefix("/") else {
            throw PrivateFile.Refusal(path: path, reason: "a log file needs an absolute path")
        }
        let stamp = Timestamp.iso8601(SystemClock().now())
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map { "\(stamp) [\(getpid())] \($0)\n" }.joined()
        if ownsDirectory, let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            try PrivateFile.makeDirectory(String(path[..<slash]))
        }
        var descriptor = try open()
        var info = stat()
        if fstat(descriptor, &info) == 0, Int(info.st_size) + lines.utf8.count > maximumSize {
            Glibc.close(descriptor)
            rename(path, path + ".1")
            descriptor = try open()
        }
        defer { Glibc.close(descriptor) }
        var bytes = Array(lines.utf8)
        _ = bytes.withUnsafeMutableBytes { write(descriptor, $0.baseAddress, $0.count) }
    }

    /// Opens the file for appending: a regular file of the user's, never through a link, 0600.
    private func open() throws -> Int32 {
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
        return descriptor
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
    public init(environment: Environment, program: String = "docker-credential-ecr") {
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
                try log.append(line)
            } catch {
                problem.report(error, program: program)
            }
            if !line.hasPrefix("\(program): debug: ") { Diagnostics.standardError(line) }
        })
    }
}
