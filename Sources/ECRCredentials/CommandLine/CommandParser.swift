// Reads a program's command line against its `CommandDescription`s: no reflection, no Foundation.

/// Parses the words after the program's name: `--name VALUE`, `--name=VALUE`, flags, positional
/// arguments, `--` (everything after it is an argument), subcommands, `-h`/`--help` at every level,
/// `help SUBCOMMAND`, `--version` (and `-v` where the root has it) and
/// `--generate-completion-script SHELL` (as the first word).
package struct CommandParser: Sendable {
    /// What the command line asks for.
    package enum Outcome: Sendable {
        /// Run this command.
        case run(ParsedCommand)
        /// Print this text (help, the version line or a completion script) on stdout and exit 0.
        case output(String)
    }

    /// The program's own command.
    package var root: CommandDescription
    /// The line `--version` prints.
    package var version: String

    /// A parser of `root`'s command line; `--version` prints `version`.
    package init(root: CommandDescription, version: String) {
        self.root = root
        self.version = version
    }

    /// What `arguments` (without the program's name) ask for.
    /// - Throws: `CommandUsageError` for a command line that does not read.
    package func parse(_ arguments: [String]) throws(CommandUsageError) -> Outcome {
        if let first = arguments.first, first == Self.completionOption || first.hasPrefix(Self.completionOption + "=") {
            return .output(try completionScript(arguments))
        }
        let optionWords = arguments.prefix { $0 != "--" }
        if root.subcommands.isEmpty == false, arguments.first == "help" {
            return .output(try helpCommand(Array(arguments.dropFirst())))
        }
        if optionWords.contains(where: { $0 == "-h" || $0 == "--help" }) {
            return .output(HelpText(chain: chain(named: optionWords)).text)
        }
        if optionWords.contains("--version") {
            return .output(version + "\n")
        }
        return try parseCommand(arguments)
    }

    /// The option that prints a completion script.
    static let completionOption = "--generate-completion-script"

    /// `--generate-completion-script SHELL` (or `=SHELL`): the script.
    private func completionScript(_ arguments: [String]) throws(CommandUsageError) -> String {
        let rootUsage = HelpText(chain: [root]).usage
        let first = arguments[0]
        let inline = first.firstIndex(of: "=").map { String(first[first.index(after: $0)...]) }
        let consumed = inline == nil ? 2 : 1
        guard let name = inline ?? (arguments.count > 1 ? arguments[1] : nil) else {
            throw CommandUsageError(kind: .missingValue, message: "Missing value for '\(Self.completionOption) <shell>'",
                                    commandPath: [root.name], usage: rootUsage)
        }
        guard let shell = CompletionScript.Shell(rawValue: name) else {
            throw CommandUsageError(kind: .invalidValue,
                                    message: "'\(TerminalText.printable(name))' is not a shell this program completes for: bash, zsh or fish",
                                    commandPath: [root.name], usage: rootUsage)
        }
        if arguments.count > consumed {
            throw CommandUsageError(kind: .unexpectedArgument, message: "Unexpected argument '\(TerminalText.printable(arguments[consumed]))'",
                                    commandPath: [root.name], usage: rootUsage)
        }
        return CompletionScript(root: root).script(for: shell)
    }

    /// `help [SUBCOMMAND ...]`: the help of the command named.
    private func helpCommand(_ words: [String]) throws(CommandUsageError) -> String {
        var chain = [root]
        for word in words where word != "-h" && word != "--help" {
            let current = chain[chain.count - 1]
            if word.hasPrefix("-") {
                throw unknownOption(word, in: chain)
            }
            guard let subcommand = current.subcommand(named: word) else {
                throw unknownSubcommand(word, in: chain)
            }
            chain.append(subcommand)
        }
        return HelpText(chain: chain).text
    }

    /// The commands that `words` name from the root, as far as they name subcommands.
    private func chain(named words: ArraySlice<String>) -> [CommandDescription] {
        var chain = [root]
        for word in words where !word.hasPrefix("-") {
            guard let subcommand = chain[chain.count - 1].subcommand(named: word) else { break }
            chain.append(subcommand)
        }
        return chain
    }

    /// The command the words name, with its values.
    private func parseCommand(_ arguments: [String]) throws(CommandUsageError) -> Outcome {
        var chain = [root]
        var values: [String: [String]] = [:]
        var flags: Set<String> = []
        var positional: [String] = []
        var optionsEnded = false
        var index = 0
        while index < arguments.count {
            let word = arguments[index]
            index += 1
            let current = chain[chain.count - 1]
            if !optionsEnded && word == "--" {
                optionsEnded = true
                continue
            }
            if !optionsEnded && word.hasPrefix("--") {
                let equals = word.firstIndex(of: "=")
                let name = String(word[word.index(word.startIndex, offsetBy: 2)..<(equals ?? word.endIndex)])
                let written = String(word[..<(equals ?? word.endIndex)])
                guard let parameter = current.option(named: name) else {
                    if equals != nil, written == "--help" || written == "--version" {
                        throw CommandUsageError(kind: .unexpectedValue, message: "The flag '\(written)' takes no value",
                                                commandPath: chain.map(\.name), usage: HelpText(chain: chain).usage)
                    }
                    throw unknownOption(written, in: chain)
                }
                if parameter.kind == .flag {
                    if equals != nil {
                        throw CommandUsageError(kind: .unexpectedValue, message: "The flag '\(written)' takes no value",
                                                help: helpLine(parameter), commandPath: chain.map(\.name), usage: HelpText(chain: chain).usage)
                    }
                    flags.insert(name)
                    continue
                }
                let value: String
                if let equals {
                    value = String(word[word.index(after: equals)...])
                } else if index < arguments.count, !Self.looksLikeOption(arguments[index]) {
                    value = arguments[index]
                    index += 1
                } else {
                    throw CommandUsageError(kind: .missingValue, message: "Missing value for '\(parameter.label)'",
                                            help: helpLine(parameter), commandPath: chain.map(\.name), usage: HelpText(chain: chain).usage)
                }
                if parameter.isRepeating {
                    values[name, default: []].append(value)
                } else {
                    values[name] = [value]
                }
                continue
            }
            if !optionsEnded && Self.looksLikeOption(word) {
                if word == "-v" && chain.count == 1 && root.hasShortVersionFlag {
                    return .output(version + "\n")
                }
                throw unknownOption(word, in: chain)
            }
            if !current.subcommands.isEmpty {
                guard let subcommand = current.subcommand(named: word) else { throw unknownSubcommand(word, in: chain) }
                chain.append(subcommand)
                continue
            }
            positional.append(word)
        }
        let command = chain[chain.count - 1]
        if !command.subcommands.isEmpty {
            // Flags alone name nothing to run: the help says what there is.
            return .output(HelpText(chain: chain).text)
        }
        let usage = HelpText(chain: chain).usage
        var remaining = positional[...]
        for argument in command.arguments {
            if argument.isRepeating {
                values[argument.name] = Array(remaining)
                remaining = []
            } else if let word = remaining.popFirst() {
                values[argument.name] = [word]
            }
            if argument.isRequired && values[argument.name, default: []].isEmpty {
                throw CommandUsageError(kind: .missingArgument,
                                        message: "Missing expected argument '\(argument.isRepeating ? argument.label + " ..." : argument.label)'",
                                        help: helpLine(argument), commandPath: chain.map(\.name), usage: usage)
            }
        }
        if let extra = remaining.first {
            throw CommandUsageError(kind: .unexpectedArgument, message: "Unexpected argument '\(TerminalText.printable(extra))'",
                                    commandPath: chain.map(\.name), usage: usage)
        }
        return .run(ParsedCommand(commandPath: chain.map(\.name), usage: usage, values: values, flags: flags))
    }

    /// A word that is an option (`-x`, `--name`), not a value: `-` alone is a value (stdin, by custom).
    static func looksLikeOption(_ word: String) -> Bool {
        word.hasPrefix("-") && word != "-"
    }

    /// `--registry <host>  An ECR registry host, ...`: the `Help:` line of an error.
    private func helpLine(_ parameter: CommandParameter) -> String {
        "\(parameter.label)  \(parameter.help)"
    }

    /// No option `word` in the last command of `chain`; the nearest name when one is close.
    private func unknownOption(_ word: String, in chain: [CommandDescription]) -> CommandUsageError {
        let command = chain[chain.count - 1]
        var names = command.parameters.filter { $0.kind != .argument }.map { "--\($0.name)" } + ["--help", "--version"]
        if chain.count == 1 && root.hasShortVersionFlag { names.append("-v") }
        var message = "Unknown option '\(TerminalText.printable(word))'"
        if let nearest = Self.nearest(to: word, in: names), nearest != word { message += "; did you mean '\(nearest)'?" }
        return CommandUsageError(kind: .unknownOption, message: message, commandPath: chain.map(\.name),
                                 usage: HelpText(chain: chain).usage)
    }

    /// No subcommand `word` of the last command of `chain`.
    private func unknownSubcommand(_ word: String, in chain: [CommandDescription]) -> CommandUsageError {
        let names = chain[chain.count - 1].subcommands.map(\.name)
        var message = "Unknown subcommand '\(TerminalText.printable(word))'"
        if let nearest = Self.nearest(to: word, in: names) { message += "; did you mean '\(nearest)'?" }
        return CommandUsageError(kind: .unknownSubcommand, message: message, commandPath: chain.map(\.name),
                                 usage: HelpText(chain: chain).usage)
    }

    /// The name in `names` at most two edits from `word` (the nearest, the first of equals), if any.
    static func nearest(to word: String, in names: [String]) -> String? {
        let typed = Array(word.unicodeScalars)
        guard typed.count <= 64 else { return nil }
        var best: (name: String, distance: Int)?
        for name in names {
            let distance = editDistance(typed, Array(name.unicodeScalars))
            if distance <= 2, distance < best?.distance ?? Int.max { best = (name, distance) }
        }
        return best?.name
    }

    /// The Levenshtein distance between two short strings.
    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var row = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            row[0] = i
            for j in 1...b.count {
                row[j] = Swift.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &row)
        }
        return previous[b.count]
    }
}
