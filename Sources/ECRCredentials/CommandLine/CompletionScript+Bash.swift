// The bash completion script: a function `complete -F` runs for the program.

extension CompletionScript {
    /// A bash function that finds the subcommand among the words typed, then offers its options
    /// (for a word starting with `-`), the value of the option before the cursor (file or
    /// directory names where that is a path, nothing for free text) or the subcommands.
    var bash: String {
        let name = root.name
        var cases = ""
        for (position, command) in ([root] + root.subcommands).enumerated() {
            let isRoot = position == 0
            let own = command.parameters.filter { $0.kind != .argument }.map { "--\($0.name)" }
            let builtIn = builtInFlags(of: command, isRoot: isRoot).flatMap { flag in
                [flag.short.map { "-\($0)" }, flag.long.map { "--\($0)" }].compactMap { $0 }
            }
            let valued = command.parameters.filter { $0.kind == .option }
            cases += "    \(isRoot ? "''" : Self.bashQuoted(command.name)))\n"
            cases += "        options=\(Self.bashQuoted((own + builtIn).joined(separator: " ")))\n"
            if !valued.isEmpty {
                cases += "        case \"${prev}\" in\n"
                for completion in [CommandParameter.Completion.file, .directory, .none] {
                    let names = valued.filter { $0.completion == completion }.map { Self.bashQuoted("--\($0.name)") }
                    guard !names.isEmpty else { continue }
                    let action: String
                    switch completion {
                    case .file: action = "compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- \"${cur}\")"
                    case .directory: action = "compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- \"${cur}\")"
                    case .none: action = ":"
                    }
                    cases += "        \(names.joined(separator: "|")))\n            \(action)\n            return\n            ;;\n"
                }
                cases += "        esac\n"
            }
            cases += "        ;;\n"
        }
        let subcommands = subcommandNames.joined(separator: " ")
        let helpTargets = root.subcommands.map(\.name).joined(separator: " ")
        return """
        #!/bin/bash
        # bash completion for \(name): `\(name) --generate-completion-script bash`.

        \(functionName)() {
            local cur="${COMP_WORDS[COMP_CWORD]}"
            local prev=""
            if (( COMP_CWORD > 0 )); then prev="${COMP_WORDS[COMP_CWORD - 1]}"; fi
            local subcommands=\(Self.bashQuoted(subcommands))
            local command="" word
            local -i index
            for (( index = 1; index < COMP_CWORD; index++ )); do
                word="${COMP_WORDS[index]}"
                [[ "${word}" == -* ]] && continue
                if [[ " ${subcommands} " == *" ${word} "* ]]; then
                    command="${word}"
                    break
                fi
            done
            COMPREPLY=()
            local options=""
            case "${command}" in
        \(cases)    esac
            if [[ "${cur}" == -* ]]; then
                mapfile -t COMPREPLY < <(compgen -W "${options}" -- "${cur}")
            elif [[ -z "${command}" ]]; then
                mapfile -t COMPREPLY < <(compgen -W "${subcommands}" -- "${cur}")
            elif [[ "${command}" == help ]]; then
                mapfile -t COMPREPLY < <(compgen -W \(Self.bashQuoted(helpTargets)) -- "${cur}")
            fi
        }

        complete -F \(functionName) \(name)

        """
    }

    /// `text` in single quotes for bash.
    static func bashQuoted(_ text: String) -> String {
        "'" + escaping(text, [("'", "'\\''")]) + "'"
    }
}
