// Base64 (RFC 4648, section 4) of bytes, strict in what it reads.

/// Standard base64 with padding, as ECR tokens, registry passwords and `Basic` credentials use it.
///
/// Decoding is strict: the length a multiple of four, `=` only as the padding of the last group,
/// and no character outside the alphabet (white space and line breaks included). Foundation's
/// `Data(base64Encoded:)` refuses all that this refuses, and takes some more ("QUJD=", "AB=C").
package enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Each byte's value in the alphabet; 0xFF for bytes outside it (and for `=`).
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(value) }
        return table
    }()

    /// `bytes` as base64 text, padded with `=`.
    package static func encode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next()
            let third = second == nil ? nil : iterator.next()
            let group = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
            output.append(alphabet[Int(group >> 18 & 0x3F)])
            output.append(alphabet[Int(group >> 12 & 0x3F)])
            output.append(second == nil ? UInt8(ascii: "=") : alphabet[Int(group >> 6 & 0x3F)])
            output.append(third == nil ? UInt8(ascii: "=") : alphabet[Int(group & 0x3F)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The bytes `text` encodes; nil unless it is padded base64 of the standard alphabet.
    package static func decode<Text: Collection>(_ text: Text) -> [UInt8]? where Text.Element == UInt8 {
        let characters = Array(text)
        guard characters.count % 4 == 0 else { return nil }
        // The `=` that end the last group; any other `=` is outside the alphabet.
        var padding = 0
        while padding < 2, padding < characters.count, characters[characters.count - 1 - padding] == UInt8(ascii: "=") {
            padding += 1
        }
        var output: [UInt8] = []
        output.reserveCapacity(characters.count / 4 * 3)
        var index = 0
        while index < characters.count {
            let isLast = index + 4 == characters.count
            let significant = isLast ? 4 - padding : 4
            var group: UInt32 = 0
            for offset in 0..<4 {
                let value: UInt8
                if offset < significant {
                    value = values[Int(characters[index + offset])]
                    guard value != 0xFF else { return nil }
                } else {
                    value = 0
                }
                group = group << 6 | UInt32(value)
            }
            output.append(UInt8(group >> 16 & 0xFF))
            if significant > 2 { output.append(UInt8(group >> 8 & 0xFF)) }
            if significant > 3 { output.append(UInt8(group & 0xFF)) }
            index += 4
        }
        return output
    }
}
