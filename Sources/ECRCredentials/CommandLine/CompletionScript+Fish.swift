// The fish completion script: `complete` commands conditioned on the subcommand typed.

extension CompletionScript {
    /// `complete` commands: the subcommands until one is typed, then that one's options (with
    /// file or directory names for path values) and, after `help`, the subcommands again.
    var fish: String {
        let name = Self.fishQuoted(root.name)
        let all = subcommandNames.joined(separator: " ")
        let none = all.isEmpty ? "" : Self.fishQuoted("not __fish_seen_subcommand_from \(all)")
        var lines = ["# fish completion for \(root.name): `\(root.name) --generate-completion-script fish`.",
                     "complete -c \(name) -f"]
        for command in root.subcommands {
            lines.append("complete -c \(name) -n \(none) -a \(Self.fishQuoted(command.name)) -d \(Self.fishQuoted(command.abstract))")
        }
        if !root.subcommands.isEmpty {
            lines.append("complete -c \(name) -n \(none) -a help -d \(Self.fishQuoted("Show subcommand help information."))")
        }
        for (position, command) in ([root] + root.subcommands).enumerated() {
            let condition = position == 0
                ? (none.isEmpty ? "" : " -n \(none)")
                : " -n \(Self.fishQuoted("__fish_seen_subcommand_from \(command.name)"))"
            for parameter in command.parameters where parameter.kind != .argument {
                var line = "complete -c \(name)\(condition) -l \(Self.fishQuoted(parameter.name))"
                if parameter.kind == .option {
                    switch parameter.completion {
                    case .none: line += " -r"
                    case .file: line += " -r -F"
                    case .directory: line += " -r -a '(__fish_complete_directories)'"
                    }
                }
                lines.append(line + " -d \(Self.fishQuoted(parameter.help))")
            }
            for flag in builtInFlags(of: command, isRoot: position == 0) {
                var line = "complete -c \(name)\(condition)"
                if let short = flag.short { line += " -s \(short)" }
                if let long = flag.long { line += " -l \(long)" }
                lines.append(line + " -d \(Self.fishQuoted(flag.help))")
            }
        }
        if !root.subcommands.isEmpty {
            let targets = root.subcommands.map(\.name).joined(separator: " ")
            lines.append("complete -c \(name) -n \(Self.fishQuoted("__fish_seen_subcommand_from help")) -a \(Self.fishQuoted(targets))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `text` in single quotes for fish, where `\` and `'` are escaped.
    static func fishQuoted(_ text: String) -> String {
        "'" + escaping(text, [("\\", "\\\\"), ("'", "\\'")]) + "'"
    }
}
