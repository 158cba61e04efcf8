// `--help`: a command's overview, usage line, arguments, options and subcommands, wrapped at 80 columns.

/// The help of one command (the last of `chain`, the commands from the program down to it), laid
/// out as OVERVIEW, USAGE, ARGUMENTS, OPTIONS and SUBCOMMANDS.
package struct HelpText: Sendable {
    /// The width lines are wrapped to.
    static let width = 80
    /// Where the help of a row (an option, an argument, a subcommand) starts.
    static let labelColumn = 26

    /// The commands from the program to the one described.
    package var chain: [CommandDescription]

    /// The help of the last command of `chain`.
    package init(chain: [CommandDescription]) {
        precondition(!chain.isEmpty, "a help text describes a command")
        self.chain = chain
    }

    /// The command described.
    var command: CommandDescription { chain[chain.count - 1] }

    /// Whether the command described is a root with `-v`.
    private var hasShortVersionFlag: Bool { chain.count == 1 && command.hasShortVersionFlag }

    /// `docker-credential-ecr configure [<registry> ...] [--registry <host> ...] ...`, on one line.
    package var usage: String {
        var words = [chain.map(\.name).joined(separator: " ")]
        if hasShortVersionFlag { words.append("[-v]") }
        words += command.parameters.map(\.synopsis)
        if !command.subcommands.isEmpty { words.append("<subcommand>") }
        return words.joined(separator: " ")
    }

    /// The whole help, ending with a line break.
    package var text: String {
        var overview = "OVERVIEW: \(command.abstract)"
        if !command.discussion.isEmpty { overview += "\n\n\(command.discussion)" }
        var sections: [String] = []
        let arguments = command.arguments
        if !arguments.isEmpty {
            sections.append("ARGUMENTS:\n" + arguments.map { Self.row($0.label, $0.help) }.joined())
        }
        var options = command.parameters.filter { $0.kind != .argument }.map { option in
            Self.row(option.label, option.defaultValue.map { "\(option.help) (default: \($0))" } ?? option.help)
        }
        if hasShortVersionFlag { options.append(Self.row("-v", "Show the version.")) }
        options.append(Self.row("--version", "Show the version."))
        options.append(Self.row("-h, --help", "Show help information."))
        sections.append("OPTIONS:\n" + options.joined())
        var closing = ""
        if !command.subcommands.isEmpty {
            sections.append("SUBCOMMANDS:\n" + command.subcommands.map { Self.row($0.name, $0.abstract) }.joined())
            let names = [chain[0].name, "help"] + chain.dropFirst().map(\.name)
            closing = "\n  See '\(names.joined(separator: " ")) <subcommand>' for detailed help."
        }
        return Self.wrap(overview, width: Self.width) + "\n\nUSAGE: \(usage)\n\n" + sections.joined(separator: "\n") + closing + "\n"
    }

    /// One row: the label indented by 2, its help from column 26 (on the next line when the label
    /// reaches that column), wrapped.
    static func row(_ label: String, _ help: String) -> String {
        let padded = "  " + label
        guard !help.isEmpty else { return padded + "\n" }
        let wrapped = wrap(help, width: width, indent: labelColumn)
        if padded.count < labelColumn {
            return padded + wrapped.dropFirst(padded.count) + "\n"
        }
        return padded + "\n" + wrapped + "\n"
    }

    /// `text` wrapped to `width` columns at spaces, every line but empty ones indented by
    /// `indent`; a word longer than a line stands on a line of its own. A line that starts with a
    /// space (an example, a command to copy) is kept whole.
    package static func wrap(_ text: String, width: Int, indent: Int = 0) -> String {
        let columns = Swift.max(width - indent, 1)
        var lines: [Substring] = []
        var paragraph: [Substring] = []
        func flush() {
            guard !paragraph.isEmpty else { return }
            lines += wrapLines(paragraph.joined(separator: "\n")[...], columns: columns)
            paragraph = []
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.first == " " {
                flush()
                lines.append(line)
            } else {
                paragraph.append(line)
            }
        }
        flush()
        let margin = String(repeating: " ", count: indent)
        return lines.map { $0.isEmpty ? "" : margin + $0 }.joined(separator: "\n")
    }

    /// The lines of `text` at most `columns` wide, broken at the last space that fits.
    private static func wrapLines(_ text: Substring, columns: Int) -> [Substring] {
        var result: [Substring] = []
        var current = text.startIndex
        while true {
            let chunk = text[current...].prefix(columns)
            if let lineBreak = chunk.lastIndex(of: "\n") {
                result += text[current..<lineBreak].split(separator: "\n", omittingEmptySubsequences: false)
                current = text.index(after: lineBreak)
            } else if chunk.endIndex == text.endIndex {
                result.append(text[current...])
                break
            } else if let space = chunk.lastIndex(of: " ") {
                result.append(text[current..<space])
                current = text.index(after: space)
            } else if let space = text[current...].firstIndex(of: " ") {
                result.append(text[current..<space])
                current = text.index(after: space)
            } else {
                result.append(text[current...])
                break
            }
        }
        return result
    }
}
