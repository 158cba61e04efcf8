// Splitting a command line into words as a POSIX shell would, without running a shell.

/// Shell-style word splitting (as Python's `shlex.split`, which the AWS CLI uses): white space
/// separates words; single quotes keep everything literally; double quotes keep everything but
/// `\"`, `\\`, `` \` `` and `\$`; a backslash outside quotes keeps the next character.
package enum CommandLineWords {
    /// A quote left open.
    package struct UnterminatedQuote: Error, Sendable, CustomStringConvertible {
        /// The command line.
        package var commandLine: String
        /// For example "unterminated quote in `tool \"x`".
        package var description: String { "unterminated quote in `\(commandLine)`" }
    }

    /// The words of `commandLine`.
    package static func split(_ commandLine: String) throws -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var iterator = commandLine.makeIterator()
        while let character = iterator.next() {
            switch character {
            case " ", "\t", "\n", "\r", "\r\n":
                if inWord { words.append(word) }
                word = ""
                inWord = false
            case "'":
                inWord = true
                var closed = false
                while let next = iterator.next() {
                    if next == "'" { closed = true; break }
                    word.append(next)
                }
                guard closed else { throw UnterminatedQuote(commandLine: commandLine) }
            case "\"":
                inWord = true
                var closed = false
                while let next = iterator.next() {
                    if next == "\"" { closed = true; break }
                    if next == "\\" {
                        guard let escaped = iterator.next() else { break }
                        if escaped == "\"" || escaped == "\\" || escaped == "$" || escaped == "`" {
                            word.append(escaped)
                        } else if escaped != "\n" {
                            word.append("\\")
                            word.append(escaped)
                        }
                        continue
                    }
                    word.append(next)
                }
                guard closed else { throw UnterminatedQuote(commandLine: commandLine) }
            case "\\":
                inWord = true
                if let escaped = iterator.next(), escaped != "\n" { word.append(escaped) }
            default:
                inWord = true
                word.append(character)
            }
        }
        if inWord { words.append(word) }
        return words
    }
}
