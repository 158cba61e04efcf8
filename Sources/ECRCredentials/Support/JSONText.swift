// JSON text written by hand: strings quoted with the escapes JSON needs.

/// Writing JSON text directly, in a fixed key order and without escaping `/`.
package enum JSONText {
    /// `text` as a JSON string literal.
    package static func quote(_ text: String) -> String {
        // Hosts, user names and base64 tokens need no escape: copied whole, without the walk
        // over every scalar (a token is a few thousand of them).
        if !text.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 < 0x20 }) {
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

    /// A JSON object of string values, keys sorted: `{}` when empty.
    package static func object(_ values: [String: String]) -> String {
        "{" + values.keys.sorted().map { "\(quote($0)):\(quote(values[$0]!))" }.joined(separator: ",") + "}"
    }
}
