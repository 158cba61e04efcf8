// A command line the parser or a command's own checks refused.

/// A command line that does not read: what is wrong, the usage line and where to find help.
/// Every word of the command line it quotes is terminal-safe (`TerminalText.printable`).
package struct CommandUsageError: Error, Sendable, CustomStringConvertible {
    /// What is wrong; an open set.
    package struct Kind: Hashable, Sendable {
        /// The kind's name.
        package var rawValue: String
        /// `--bogus`: no such option or flag.
        package static let unknownOption = Kind(rawValue: "unknown-option")
        /// `--registry` at the end, or before another option.
        package static let missingValue = Kind(rawValue: "missing-value")
        /// `--json=yes`: a flag takes no value.
        package static let unexpectedValue = Kind(rawValue: "unexpected-value")
        /// A word no argument takes.
        package static let unexpectedArgument = Kind(rawValue: "unexpected-argument")
        /// A required argument not given.
        package static let missingArgument = Kind(rawValue: "missing-argument")
        /// A word where a subcommand goes that names none.
        package static let unknownSubcommand = Kind(rawValue: "unknown-subcommand")
        /// A value that is not one of those allowed (`--generate-completion-script ksh`).
        package static let invalidValue = Kind(rawValue: "invalid-value")
        /// A combination the command's own checks refused.
        package static let invalid = Kind(rawValue: "invalid")
    }

    /// The exit status of a usage error, as BSD's sysexits.h has it (EX_USAGE).
    package static let exitStatus: Int32 = 64

    /// What is wrong.
    package var kind: Kind
    /// One sentence, such as `Unknown option '--bogus'`.
    package var message: String
    /// The help of the option or argument concerned, as one line (`--registry <host>  An ECR ...`).
    package var help: String?
    /// The names from the program to the command the error is in.
    package var commandPath: [String]
    /// That command's usage line.
    package var usage: String

    /// An error with its message, help line and the command's usage.
    package init(kind: Kind, message: String, help: String? = nil, commandPath: [String], usage: String) {
        self.kind = kind
        self.message = message
        self.help = help
        self.commandPath = commandPath
        self.usage = usage
    }

    /// The lines for stderr: `Error: ...`, `Help: ...` where there is one, `Usage: ...` and the
    /// pointer to `--help`.
    package var description: String {
        var lines = ["Error: \(message)"]
        if let help { lines.append("Help:  \(help)") }
        lines.append("Usage: \(usage)")
        lines.append("  See '\(commandPath.joined(separator: " ")) --help' for more information.")
        return lines.joined(separator: "\n")
    }
}
