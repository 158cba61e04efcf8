// What a command line said, once parsed: which command, and its flags, options and arguments.

/// The command to run and the values given to it, read by the command's own type.
package struct ParsedCommand: Sendable {
    /// The names from the program to the command (`["docker-credential-ecr", "configure"]`).
    package var commandPath: [String]
    /// The command's usage line, for the errors its own checks find.
    package var usage: String
    /// The values of each option and argument given, under its name, in the order given.
    var values: [String: [String]]
    /// The flags given.
    var flags: Set<String>

    /// The subcommand run (`configure`), or nil for the program itself.
    package var subcommand: String? {
        commandPath.count > 1 ? commandPath[1] : nil
    }

    /// Whether the flag `--name` was given.
    package func flag(_ name: String) -> Bool {
        flags.contains(name)
    }

    /// The value of option or argument `name`: the last one given, or nil.
    package func value(_ name: String) -> String? {
        values[name]?.last
    }

    /// Every value of a repeatable option or argument `name`, in the order given.
    package func values(_ name: String) -> [String] {
        values[name] ?? []
    }

    /// A usage error of this command, found by its own checks (`--account needs at least one --region`).
    package func usageError(_ message: String) -> CommandUsageError {
        CommandUsageError(kind: .invalid, message: message, commandPath: commandPath, usage: usage)
    }
}
