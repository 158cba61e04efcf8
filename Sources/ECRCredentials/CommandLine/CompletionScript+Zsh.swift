// The zsh completion script: an `#compdef` function over `_arguments`.

extension CompletionScript {
    /// A zsh function: the root's flags and its subcommands (described), then for the subcommand
    /// typed its options (each with its help, repeatable ones any number of times) and arguments.
    var zsh: String {
        let name = root.name
        let describedSubcommands = root.subcommands.map { Self.zshQuoted("\(Self.zshEscaped($0.name, colons: true)):\($0.abstract)") }
            + (root.subcommands.isEmpty ? [] : [Self.zshQuoted("help:Show subcommand help information.")])
        let helpTargets = root.subcommands.map { Self.zshQuoted("\(Self.zshEscaped($0.name, colons: true)):\($0.abstract)") }
        var branches = ""
        for command in root.subcommands {
            branches += "        \(Self.zshQuoted(command.name)))\n"
            branches += "            _arguments -s -S \\\n"
            for spec in zshSpecs(command, isRoot: false) { branches += "                \(spec) \\\n" }
            branches += "                && ret=0\n            ;;\n"
        }
        if !root.subcommands.isEmpty {
            branches += "        help)\n            local -a help_targets=(\n"
            branches += helpTargets.map { "                \($0)\n" }.joined()
            branches += "            )\n            _describe -t commands subcommand help_targets && ret=0\n            ;;\n"
        }
        var rootSpecs = zshSpecs(root, isRoot: true)
        if !root.subcommands.isEmpty {
            rootSpecs += [Self.zshQuoted("(-): :->command"), Self.zshQuoted("(-)*:: :->argument")]
        }
        return """
        #compdef \(name)
        # zsh completion for \(name): `\(name) --generate-completion-script zsh`, saved as _\(name) in a
        # directory of $fpath (or sourced after compinit).

        \(functionName)() {
            local context state state_descr line
            local -A opt_args
            local -i ret=1
            _arguments -s -S \\
        \(rootSpecs.map { "        \($0) \\\n" }.joined())        && ret=0
            case "${state}" in
            command)
                local -a subcommands=(
        \(describedSubcommands.map { "            \($0)\n" }.joined())        )
                _describe -t commands subcommand subcommands && ret=0
                ;;
            argument)
                case "${words[1]}" in
        \(branches)        esac
                ;;
            esac
            return ret
        }

        if [[ "${funcstack[1]}" == _\(name) ]]; then
            \(functionName) "$@"
        else
            compdef \(functionName) \(name)
        fi

        """
    }

    /// The `_arguments` specs of a command's flags, options and arguments.
    private func zshSpecs(_ command: CommandDescription, isRoot: Bool) -> [String] {
        var specs: [String] = []
        for parameter in command.parameters {
            let help = Self.zshEscaped(parameter.help, colons: true)
            let action: String
            switch parameter.completion {
            case .none: action = ""
            case .file: action = "_files"
            case .directory: action = "_files -/"
            }
            let value = Self.zshEscaped(parameter.valueName, colons: true)
            switch parameter.kind {
            case .flag:
                specs.append(Self.zshQuoted("--\(parameter.name)[\(help)]"))
            case .option:
                specs.append(Self.zshQuoted("\(parameter.isRepeating ? "*" : "")--\(parameter.name)=[\(help)]:\(value):\(action)"))
            case .argument:
                specs.append(Self.zshQuoted("\(parameter.isRepeating ? "*" : ""):\(value):\(action)"))
            }
        }
        for flag in builtInFlags(of: command, isRoot: isRoot) {
            let help = Self.zshEscaped(flag.help, colons: true)
            switch (flag.short, flag.long) {
            case let (short?, long?): specs.append("'(-\(short) --\(long))'{-\(short),--\(long)}'[\(help)]'")
            case let (short?, nil): specs.append(Self.zshQuoted("-\(short)[\(help)]"))
            case let (nil, long?): specs.append(Self.zshQuoted("--\(long)[\(help)]"))
            case (nil, nil): break
            }
        }
        return specs
    }

    /// `text` in single quotes for zsh.
    static func zshQuoted(_ text: String) -> String {
        "'" + escaping(text, [("'", "'\\''")]) + "'"
    }

    /// `text` with the characters `_arguments` gives a meaning (`[`, `]`, `:` and `\`) escaped.
    static func zshEscaped(_ text: String, colons: Bool) -> String {
        escaping(text, [("\\", "\\\\"), ("[", "\\["), ("]", "\\]")] + (colons ? [(":", "\\:")] : []))
    }
}
