// Decoding JSON from outside (servers, files, child processes, stdin), refusing duplicate keys.
import FoundationEssentials

/// Decodes JSON that comes from outside this process.
///
/// A document with the same key twice in one object is refused. Parsers disagree about such
/// documents (Foundation keeps the first value, Go and Python the last), so a duplicate lets two
/// readers of one document see different credentials; refusing it gives every reader one answer.
package enum JSONInput {
    /// Why a document was refused before decoding.
    package struct DuplicateKey: Error, Sendable, CustomStringConvertible {
        /// The key that appears twice in one object.
        package var key: String
        /// For example "the JSON object has the key \"Secret\" twice".
        package var description: String { "the JSON object has the key \"\(key)\" twice" }
    }

    /// Decodes `bytes` as `type` after checking that no object repeats a key.
    /// - Throws: `DuplicateKey`, or the `DecodingError` of `JSONDecoder`.
    package static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try checkUniqueKeys(bytes)
        return try JSONDecoder().decode(type, from: Data(bytes))
    }

    /// Throws `DuplicateKey` when an object of `bytes` has a key twice (after unescaping).
    ///
    /// A single pass over the text without recursion; malformed JSON is left to the decoder.
    package static func checkUniqueKeys(_ bytes: [UInt8]) throws {
        // For each open container: nil for an array, the keys seen so far for an object.
        var stack: [Set<[UInt8]>?] = []
        // Whether the next string in the innermost object is a key (after `{` or `,`).
        var expectingKey = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "{"):
                stack.append([])
                expectingKey = true
            case UInt8(ascii: "["):
                stack.append(nil)
                expectingKey = false
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !stack.isEmpty { stack.removeLast() }
                expectingKey = false
            case UInt8(ascii: ","):
                expectingKey = stack.last.map { $0 != nil } ?? false
            case UInt8(ascii: "\""):
                let (text, end) = string(bytes, from: index + 1)
                if expectingKey, let last = stack.indices.last, stack[last] != nil {
                    guard stack[last]!.insert(text).inserted else {
                        throw DuplicateKey(key: String(decoding: text, as: UTF8.self))
                    }
                }
                expectingKey = false
                index = end
                continue
            default:
                break
            }
            index += 1
        }
    }

    /// The unescaped UTF-8 of the string starting after its opening quote at `start`, and the
    /// index after its closing quote.
    private static func string(_ bytes: [UInt8], from start: Int) -> (text: [UInt8], end: Int) {
        var text: [UInt8] = []
        var index = start
        var pendingHighSurrogate: UInt32?
        func hex(_ at: Int) -> UInt32? {
            guard at + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for byte in bytes[at..<(at + 4)] {
                guard let digit = Character(Unicode.Scalar(byte)).hexDigitValue else { return nil }
                value = value * 16 + UInt32(digit)
            }
            return value
        }
        func append(_ scalar: UInt32) {
            text.append(contentsOf: String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { return (text, index + 1) }
            guard byte == UInt8(ascii: "\\"), index + 1 < bytes.count else {
                if let high = pendingHighSurrogate { append(high); pendingHighSurrogate = nil }
                text.append(byte)
                index += 1
                continue
            }
            let escaped = bytes[index + 1]
            index += 2
            if escaped == UInt8(ascii: "u"), let unit = hex(index) {
                index += 4
                if let high = pendingHighSurrogate {
                    pendingHighSurrogate = nil
                    if (0xDC00...0xDFFF).contains(unit) {
                        append(0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00))
                        continue
                    }
                    append(high)
                }
                if (0xD800...0xDBFF).contains(unit) {
                    pendingHighSurrogate = unit
                } else {
                    append(unit)
                }
                continue
            }
            if let high = pendingHighSurrogate { append(high); pendingHighSurrogate = nil }
            switch escaped {
            case UInt8(ascii: "n"): text.append(0x0A)
            case UInt8(ascii: "t"): text.append(0x09)
            case UInt8(ascii: "r"): text.append(0x0D)
            case UInt8(ascii: "b"): text.append(0x08)
            case UInt8(ascii: "f"): text.append(0x0C)
            default: text.append(escaped)
            }
        }
        return (text, index)
    }
}
