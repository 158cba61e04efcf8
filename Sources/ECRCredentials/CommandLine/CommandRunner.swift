// The process side of a command line for people: help, version and usage errors out, the command run.

#if canImport(Glibc)
import Glibc
#endif

/// Runs what a command line asks for and ends the process with its exit status: help, the
/// version line and completion scripts on stdout (status 0, or 1 when stdout takes none of it); a
/// usage error on stderr (status 64); the command, whose `CommandFailure` gives the status and
/// whose other errors are said on stderr as `Error: ...` (status 1). Whatever is printed from
/// the command line is terminal-safe.
package struct CommandRunner {
    /// The parser of the program's command line.
    package var parser: CommandParser
    /// The name warnings go out under.
    package var program: String

    /// A runner of `parser`'s program.
    package init(parser: CommandParser, program: String) {
        self.parser = parser
        self.program = program
    }

    /// Parses `arguments`, runs the command with `run` and exits; `rootError` (when given) takes
    /// a usage error of the program's own level, the subcommands' go to stderr.
    package func main(_ arguments: [String], rootError: ((CommandUsageError) -> Never)? = nil,
                      run: (ParsedCommand) throws -> Void) -> Never {
        let parsed: ParsedCommand
        do {
            switch try parser.parse(arguments) {
            case .output(let text): Self.finish(writing: text, program: program)
            case .run(let command): parsed = command
            }
        } catch {
            if error.commandPath.count == 1, let rootError { rootError(error) }
            Self.fail(with: error)
        }
        do {
            try run(parsed)
        } catch let error as CommandUsageError {
            Self.fail(with: error)
        } catch let failure as CommandFailure {
            Glibc.exit(failure.status)
        } catch {
            Diagnostics.standardError(TerminalText.printableLines("Error: \(error)") + "\n")
            Glibc.exit(1)
        }
        Glibc.exit(0)
    }

    /// Says the usage error on stderr and exits with status 64.
    package static func fail(with usageError: CommandUsageError) -> Never {
        Diagnostics.standardError(TerminalText.printableLines(usageError.description) + "\n")
        Glibc.exit(CommandUsageError.exitStatus)
    }

    /// Writes `text` on stdout and exits 0; 1, with the reason on stderr, when it could not be written.
    package static func finish(writing text: String, program: String) -> Never {
        do {
            try StandardStreams.writeOutput(text)
        } catch {
            Diagnostics(level: .warning, program: program).warning("\(error)")
            Glibc.exit(1)
        }
        Glibc.exit(0)
    }
}
