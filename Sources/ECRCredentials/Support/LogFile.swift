// A private, size-bounded log file: where diagnostics go when docker hides the helper's stderr.
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// Appends timestamped lines to a 0600 file in a 0700 directory; at `maximumSize` bytes the file
/// becomes `<file>.1` (replacing the previous one) and a new one starts, so the log never holds
/// more than twice that. Writing never fails a request: a log that cannot be written is skipped.
public struct LogFile: Sendable {
    /// The file.
    public let path: String
    /// The size at which the file is rotated. Default 1 MiB.
    public let maximumSize: Int

    /// Creates a log at `path`.
    public init(path: String, maximumSize: Int = 1 << 20) {
        self.path = path
        self.maximumSize = maximumSize
    }

    /// `$XDG_STATE_HOME/docker-credential-ecr/log` (`~/.local/state/...`).
    public static func defaultPath(environment: Environment) -> String {
        environment.stateHome + "/docker-credential-ecr/log"
    }

    /// Appends `text` (whole lines), each line prefixed with the time and the process id.
    public func append(_ text: String) {
        let stamp = Timestamp.iso8601(SystemClock().now())
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).map { "\(stamp) [\(getpid())] \($0)\n" }.joined()
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            guard (try? PrivateFile.makeDirectory(String(path[..<slash]))) != nil else { return }
        }
        var descriptor = open()
        guard descriptor >= 0 else { return }
        var info = stat()
        if fstat(descriptor, &info) == 0, Int(info.st_size) + lines.utf8.count > maximumSize {
            Glibc.close(descriptor)
            rename(path, path + ".1")
            descriptor = open()
            guard descriptor >= 0 else { return }
        }
        defer { Glibc.close(descriptor) }
        var bytes = Array(lines.utf8)
        _ = bytes.withUnsafeMutableBytes { write(descriptor, $0.baseAddress, $0.count) }
    }

    /// Opens the file for appending: a regular file of the user's, never through a link.
    private func open() -> Int32 {
        let descriptor = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0o600)
        guard descriptor >= 0 else { return -1 }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_uid == geteuid() else {
            Glibc.close(descriptor)
            return -1
        }
        return descriptor
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
        let log = LogFile(path: explicit.map(environment.expandingTilde) ?? LogFile.defaultPath(environment: environment))
        self.init(level: level, program: program, sink: { line in
            log.append(line)
            if !line.hasPrefix("\(program): debug: ") { Diagnostics.standardError(line) }
        })
    }
}
