// What one command of a program's command line takes: its texts, options, arguments and subcommands.

/// The declaration of a command: what `CommandParser` accepts, what `--help` shows and what the
/// completion scripts offer. The root command is the program itself.
package struct CommandDescription: Sendable {
    /// The word that runs it (the program's name for the root).
    package var name: String
    /// One sentence: the OVERVIEW line, and the command's line under SUBCOMMANDS.
    package var abstract: String
    /// Paragraphs after the overview; a line that starts with a space is shown as written.
    package var discussion: String
    /// Flags, options and arguments, in the order the usage line and help show them.
    package var parameters: [CommandParameter]
    /// The commands under this one (`configure`, `doctor`, ...); a root with subcommands also
    /// takes `help SUBCOMMAND`.
    package var subcommands: [CommandDescription]
    /// Whether `-v` prints the version, as `--version` does (the root only).
    package var hasShortVersionFlag: Bool

    /// A command with its texts and parameters; a root with `subcommands`.
    package init(name: String, abstract: String, discussion: String = "", parameters: [CommandParameter] = [],
                 subcommands: [CommandDescription] = [], hasShortVersionFlag: Bool = false) {
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.parameters = parameters
        self.subcommands = subcommands
        self.hasShortVersionFlag = hasShortVersionFlag
    }

    /// The subcommand called `name`, if there is one.
    package func subcommand(named name: String) -> CommandDescription? {
        subcommands.first { $0.name == name }
    }

    /// The flag or option whose long name is `name`.
    func option(named name: String) -> CommandParameter? {
        parameters.first { $0.kind != .argument && $0.name == name }
    }

    /// The positional arguments, in order.
    var arguments: [CommandParameter] {
        parameters.filter { $0.kind == .argument }
    }
}
