// `--generate-completion-script bash|zsh|fish`: shell completion for a program's commands and options.

/// The completion script of a program for one shell: its subcommands (and `help SUBCOMMAND`),
/// each command's flags and options, and file or directory names for the options whose value is
/// a path. The scripts call nothing back: what to offer is written into them.
package struct CompletionScript: Sendable {
    /// The shells there are scripts for.
    package enum Shell: String, Sendable, CaseIterable {
        /// bash, with the `complete` builtin (bash-completion loads it by the program's name).
        case bash
        /// zsh, an `#compdef` function for `fpath`.
        case zsh
        /// fish, `complete` commands for `~/.config/fish/completions`.
        case fish
    }

    /// The program's own command.
    package var root: CommandDescription

    /// The script for `root`'s command line.
    package init(root: CommandDescription) {
        self.root = root
    }

    /// The script for `shell`.
    package func script(for shell: Shell) -> String {
        switch shell {
        case .bash: return bash
        case .zsh: return zsh
        case .fish: return fish
        }
    }

    /// The flags of a command besides its own: `--version`, `-h`/`--help` (and the root's `-v`).
    func builtInFlags(of command: CommandDescription, isRoot: Bool) -> [(long: String?, short: String?, help: String)] {
        var flags: [(long: String?, short: String?, help: String)] = []
        if isRoot && command.hasShortVersionFlag { flags.append((nil, "v", "Show the version.")) }
        flags.append(("version", nil, "Show the version."))
        flags.append(("help", "h", "Show help information."))
        return flags
    }

    /// The subcommands, then `help` when there are any.
    var subcommandNames: [String] {
        root.subcommands.isEmpty ? [] : root.subcommands.map(\.name) + ["help"]
    }

    /// The program's name as a shell function name: letters, digits and `_`.
    var functionName: String {
        "_" + String(root.name.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }
}

extension CompletionScript {
    /// `text` with each character of `replacements` written as its replacement.
    static func escaping(_ text: String, _ replacements: [(Character, String)]) -> String {
        var result = ""
        for character in text {
            if let replacement = replacements.first(where: { $0.0 == character }) {
                result += replacement.1
            } else {
                result.append(character)
            }
        }
        return result
    }
}
