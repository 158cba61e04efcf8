// Messages for the user on stderr: warnings always, debug lines when asked for.
#if canImport(Glibc)
import Glibc
#endif

/// Writes diagnostic lines to standard error.
///
/// Docker, nerdctl and podman pass a helper's stderr straight to the user's terminal, so warnings
/// are short single lines. Debug lines appear only with `DOCKER_CREDENTIAL_ECR_LOG=debug`.
/// Callers never pass secrets: messages name hosts, profiles, key ids and error codes only.
package struct Diagnostics: Sendable {
    /// How much is written.
    package enum Level: Int, Sendable, Comparable {
        /// Nothing at all.
        case quiet = 0
        /// Warnings and failures (the default).
        case warning = 1
        /// Every step of the work, for troubleshooting.
        case debug = 2

        package static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// The level in force.
    package var level: Level
    /// The prefix of every line, the program's name.
    package var program: String
    private let sink: @Sendable (String) -> Void

    /// Creates diagnostics writing to `sink` (standard error by default).
    package init(level: Level = .warning, program: String = "docker-credential-ecr",
                sink: @escaping @Sendable (String) -> Void = Diagnostics.standardError) {
        self.level = level
        self.program = program
        self.sink = sink
    }

    /// The level named by `DOCKER_CREDENTIAL_ECR_LOG` (`quiet`, `warning`, `debug`).
    package static func level(from environment: Environment) -> Level {
        switch environment["DOCKER_CREDENTIAL_ECR_LOG"]?.lowercased() {
        case "debug", "trace", "2": return .debug
        case "quiet", "off", "none", "0": return .quiet
        default: return .warning
        }
    }

    /// Writes a warning line.
    package func warning(_ message: @autoclosure () -> String) {
        guard level >= .warning else { return }
        sink("\(program): \(Self.printable(message()))\n")
    }

    /// Writes a debug line.
    package func debug(_ message: @autoclosure () -> String) {
        guard level >= .debug else { return }
        sink("\(program): debug: \(Self.printable(message()))\n")
    }

    /// `text` made safe for a terminal, on one line (see `TerminalText.printable`). Messages
    /// carry text from servers, files and child processes.
    package static func printable(_ text: String) -> String {
        // And no token that is one by its shape (a JWT, a bearer token), wherever it came from.
        SecretRedaction.webTokens(in: TerminalText.printable(text))
    }

    /// Writes to file descriptor 2 in one call, so lines of parallel processes do not interleave.
    package static let standardError: @Sendable (String) -> Void = { text in
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }
}
