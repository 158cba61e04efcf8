// JSON text written by hand: strings quoted with the escapes JSON needs.

/// Writing JSON text directly, in a fixed key order and without escaping `/`.
package enum JSONText {
    /// `text` as a JSON string literal.
    package static func quote(_ text: String) -> String {
        // Hosts, user names and base64 tokens need no escape: copied whole, without the walk
        // over every scalar (a token is a few thousand of them).
        if !needsEscape(text) {
            return "\"" + text + "\""
        }
        var output = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                output.unicodeScalars.append(scalar)
            }
        }
        return output + "\""
    }

    /// Whether `text` has a byte JSON must escape (a quote, a backslash or a control character),
    /// checked over its UTF-8 storage in one tight pass.
    private static func needsEscape(_ text: String) -> Bool {
        func scan(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            for byte in bytes where byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 {
                return true
            }
            return false
        }
        return text.utf8.withContiguousStorageIfAvailable(scan) ?? Array(text.utf8).withUnsafeBufferPointer(scan)
    }

    /// A JSON object of string values, keys sorted: `{}` when empty.
    package static func object(_ values: [String: String]) -> String {
        "{" + values.keys.sorted().map { "\(quote($0)):\(quote(values[$0]!))" }.joined(separator: ",") + "}"
    }
}
