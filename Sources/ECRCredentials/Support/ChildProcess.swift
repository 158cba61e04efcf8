// Running a program without a shell, with a time limit, collecting its output.
#if canImport(Glibc)
import Glibc
#endif

/// Runs a program (found on `PATH` when its name has no `/`) with stdin from /dev/null,
/// collecting stdout and stderr; kills it when it outlives its time limit.
///
/// The whole run is bounded, the final `waitpid` included: the program runs in a process group
/// of its own, and at the deadline the whole group is killed. A run ends when the program has
/// exited and its pipes are closed, or shortly after it exits even when a background process it
/// started still holds them.
package enum ChildProcess {
    /// How long output is still collected after the program exited while something (a background
    /// process it started) keeps its pipes open.
    static let drainAfterExit = 0.2

    /// How a run ended.
    package struct Result: Sendable {
        /// The exit status, or 128 + the signal number.
        package var status: Int32
        /// Standard output (at most 1 MiB is kept).
        package var output: [UInt8]
        /// Standard error (at most 64 KiB is kept).
        package var errors: [UInt8]
        /// Whether it was killed for taking too long.
        package var timedOut: Bool
        /// The signal that killed it, when one did (`status` is then 128 + it).
        package var signal: Int32? = nil
    }

    /// Why a program could not be started.
    package struct LaunchFailure: Error, Sendable, CustomStringConvertible {
        /// The program.
        package var program: String
        /// The errno from posix_spawn.
        package var code: Int32
        /// For example "cannot run aws-vault: No such file or directory".
        package var description: String { "cannot run \(program): \(String(cString: strerror(code)))" }
    }

    /// Runs `arguments` (program first) with `environment`, for at most `timeout` seconds; its
    /// stdin is `input` (at most 64 KiB, written whole before it starts), else /dev/null.
    /// - Throws: `LaunchFailure` when it cannot be started.
    package static func run(_ arguments: [String], environment: [String: String], timeout: Double, input: [UInt8]? = nil) throws -> Result {
        precondition(!arguments.isEmpty, "a program is required")
        var outputPipe: [Int32] = [-1, -1]
        var errorPipe: [Int32] = [-1, -1]
        guard pipe(&outputPipe) == 0 else { throw LaunchFailure(program: arguments[0], code: errno) }
        guard pipe(&errorPipe) == 0 else {
            close(outputPipe[0]); close(outputPipe[1])
            throw LaunchFailure(program: arguments[0], code: errno)
        }
        // Only the duplicates on 1 and 2 may reach the child.
        for descriptor in outputPipe + errorPipe { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        defer {
            close(outputPipe[0])
            close(errorPipe[0])
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // A small input fits a pipe's buffer: written and closed now, it never blocks.
        var inputPipe: [Int32] = [-1, -1]
        if let input {
            precondition(input.count <= 1 << 16, "input beyond a pipe's buffer")
            guard pipe(&inputPipe) == 0 else { throw LaunchFailure(program: arguments[0], code: errno) }
            _ = fcntl(inputPipe[0], F_SETFD, FD_CLOEXEC)
            _ = fcntl(inputPipe[1], F_SETFD, FD_CLOEXEC)
            let written = input.withUnsafeBytes { write(inputPipe[1], $0.baseAddress, $0.count) }
            close(inputPipe[1])
            guard written == input.count else {
                close(inputPipe[0])
                throw LaunchFailure(program: arguments[0], code: errno)
            }
            posix_spawn_file_actions_adddup2(&actions, inputPipe[0], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        defer { if inputPipe[0] >= 0 { close(inputPipe[0]) } }
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errorPipe[1], 2)

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        // A process group of its own, so the deadline can kill whatever it started too.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // SIGPIPE at its default again: this process ignores it (StandardStreams.reportBrokenPipes),
        // and an ignored signal would be inherited across exec.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)

        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp)
        close(outputPipe[1])
        close(errorPipe[1])
        guard spawned == 0 else { throw LaunchFailure(program: arguments[0], code: spawned) }
        for descriptor in [outputPipe[0], errorPipe[0]] {
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        }

        var output: [UInt8] = []
        var errors: [UInt8] = []
        var open = [outputPipe[0], errorPipe[0]]
        var timedOut = false
        var status: Int32 = 0
        var exitedAt: Double?
        let deadline = MonotonicTime.seconds() + timeout
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            if exitedAt == nil {
                var result = waitpid(pid, &status, WNOHANG)
                while result < 0 && errno == EINTR { result = waitpid(pid, &status, WNOHANG) }
                if result == pid || result < 0 { exitedAt = MonotonicTime.seconds() }
            }
            let now = MonotonicTime.seconds()
            if let exitedAt, open.isEmpty || now - exitedAt >= drainAfterExit { break }
            if now >= deadline {
                timedOut = true
                break
            }
            // Wake up at the deadline, at the end of the drain, or every 20 ms to notice an exit
            // that closed no pipe (the pipes are shared with a background process).
            var wait = min(deadline - now, 0.02)
            if let exitedAt { wait = min(wait, exitedAt + drainAfterExit - now) }
            var descriptors = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&descriptors, nfds_t(descriptors.count), Int32((max(wait, 0) * 1000).rounded(.up)))
            guard ready > 0 else { continue }
            for descriptor in descriptors where descriptor.revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(descriptor.fd, $0.baseAddress, $0.count) }
                if count < 0 && (errno == EAGAIN || errno == EINTR) { continue }
                if count <= 0 {
                    open.removeAll { $0 == descriptor.fd }
                } else if descriptor.fd == outputPipe[0] {
                    if output.count < 1 << 20 { output.append(contentsOf: buffer[0..<count]) }
                } else if errors.count < 1 << 16 {
                    errors.append(contentsOf: buffer[0..<count])
                }
            }
        }
        if timedOut {
            // The group: the program and everything it started (unless they left the group).
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
            // Bounded: a process killed with SIGKILL is reaped at once.
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        var result = Result(status: exitCode, output: output, errors: errors, timedOut: timedOut)
        if (status & 0x7f) != 0 { result.signal = status & 0x7f }
        return result
    }
}
