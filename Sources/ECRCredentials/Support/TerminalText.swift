// Text from outside made safe to reach a terminal: the one sanitizer every printed string passes.

/// Makes text that came from outside (servers, files, child processes, requests) safe to print:
/// no control character (C0 with ESC and BEL, DEL, C1 with the one-character CSI U+009B) and no
/// bidirectional formatting character (U+200E, U+200F, U+061C, U+202A–U+202E, U+2066–U+2069)
/// reaches the terminal, so a server cannot retitle the window, clear the screen or reorder
/// what a line seems to say.
package enum TerminalText {
    /// `text` on one line with every unprintable scalar replaced by a space.
    package static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isUnprintable) else { return text }
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            scalars.append(isUnprintable(scalar) ? " " : scalar)
        }
        return String(scalars)
    }

    /// `text` with every line made printable, the line breaks kept: for messages of several
    /// lines (a usage text that quotes a mistyped argument).
    package static func printableLines(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { printable(String($0)) }.joined(separator: "\n")
    }

    /// `printable(text)`, cut to at most `limit` scalars.
    package static func printable(_ text: String, limit: Int) -> String {
        let safe = printable(text)
        guard safe.unicodeScalars.count > limit else { return safe }
        return String(String.UnicodeScalarView(safe.unicodeScalars.prefix(limit)))
    }

    /// JSON text (whose strings already escape C0 controls) with DEL, C1 and bidirectional
    /// formatting characters written as `\uXXXX` escapes: the same document to a JSON reader,
    /// and nothing a terminal acts on. Line breaks and tabs between tokens stay.
    package static func escapingInJSON(_ json: String) -> String {
        guard json.unicodeScalars.contains(where: { isUnprintable($0) && $0.value >= 0x20 }) else { return json }
        var output = String.UnicodeScalarView()
        for scalar in json.unicodeScalars {
            guard isUnprintable(scalar), scalar.value >= 0x20 else {
                output.append(scalar)
                continue
            }
            let hex = String(scalar.value, radix: 16)
            output.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
        }
        return String(output)
    }

    /// Whether a terminal could act on `scalar` rather than show it.
    static func isUnprintable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x061C, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069: return true
        default: return false
        }
    }
}
