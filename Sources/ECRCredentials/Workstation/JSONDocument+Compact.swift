// JSON on one line: how a config file written without layout is written back.

extension JSONDocument {
    /// The text without any whitespace between tokens, keys in their order, a final newline: for
    /// a file that was written on one line, or one that indentation would make too large.
    package var compactText: String {
        var output = ""
        writeCompact(to: &output)
        return output + "\n"
    }

    private func writeCompact(to output: inout String) {
        switch self {
        case .object(let members):
            output += "{"
            for (offset, member) in members.enumerated() {
                if offset > 0 { output += "," }
                output += JSONText.quote(member.key) + ":"
                member.value.writeCompact(to: &output)
            }
            output += "}"
        case .array(let elements):
            output += "["
            for (offset, element) in elements.enumerated() {
                if offset > 0 { output += "," }
                element.writeCompact(to: &output)
            }
            output += "]"
        case .string(let text): output += JSONText.quote(text)
        case .number(let text): output += text
        case .bool(let value): output += value ? "true" : "false"
        case .null: output += "null"
        }
    }
}
