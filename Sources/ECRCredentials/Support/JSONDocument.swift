// JSON that keeps what people wrote: key order, number spelling, and where a mistake is.

/// A JSON value whose objects keep their keys in order: the one JSON parser of this library.
///
/// Files people own (`~/.docker/config.json`) are edited through it without reshuffling them,
/// and `JSONInput` decodes what comes from outside from it (with `JSONDocumentDecoder`).
package indirect enum JSONDocument: Sendable, Equatable {
    /// An object, keys in file order.
    case object([(key: String, value: JSONDocument)])
    /// An array.
    case array([JSONDocument])
    /// A string.
    case string(String)
    /// A number, as written.
    case number(String)
    /// `true` or `false`.
    case bool(Bool)
    /// `null`.
    case null

    /// Why a text is not JSON, and where.
    package struct ParseError: Error, Sendable, CustomStringConvertible {
        /// The line, from 1.
        package var line: Int
        /// The column, from 1, in characters.
        package var column: Int
        /// What was expected or found.
        package var reason: String
        /// Whether the mistake is one that docker (Go) reads past, turning it into U+FFFD: bytes
        /// that are not UTF-8, or half a surrogate pair.
        package var isEncoding = false
        /// The key, when the mistake is an object that has it twice.
        package var duplicateKey: String?
        /// For example "line 3, column 5: expected \",\" or \"}\"".
        package var description: String { "line \(line), column \(column): \(reason)" }
    }

    package static func == (lhs: JSONDocument, rhs: JSONDocument) -> Bool {
        switch (lhs, rhs) {
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.array(a), .array(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.bool(a), .bool(b)): return a == b
        case (.null, .null): return true
        default: return false
        }
    }

    // MARK: reading

    /// Parses `text`, which must be UTF-8 and hold exactly one value.
    ///
    /// Bytes that are not UTF-8 (anywhere: overlong forms, encoded surrogates, code points above
    /// U+10FFFF, cut-short sequences) and `\u` escapes of half a surrogate pair are refused rather
    /// than read as U+FFFD: the document could not be written back as it was, and a rewrite
    /// would lose what the file held.
    /// - Throws: `ParseError` with the line and column of the first mistake.
    package init(parsing text: [UInt8]) throws(ParseError) {
        var parser = Parser(bytes: text)
        if let problem = Parser.utf8Problem(in: text) {
            parser.index = problem.index
            var error = parser.error(problem.reason)
            error.isEncoding = true
            throw error
        }
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == text.count else { throw parser.error("unexpected text after the JSON value") }
        self = value
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0
        /// The deepest nesting read: deeper documents are refused rather than overflowing the stack.
        static let maximumDepth = 256

        func error(_ reason: String) -> ParseError {
            var line = 1
            var column = 1
            for byte in bytes[..<min(index, bytes.count)] {
                if byte == 0x0a {
                    line += 1
                    column = 1
                } else if byte & 0xc0 != 0x80 {
                    column += 1
                }
            }
            return ParseError(line: line, column: column, reason: reason)
        }

        /// Where `bytes` first stops being UTF-8, and a reason naming the bytes; nil for UTF-8.
        static func utf8Problem(in bytes: [UInt8]) -> (index: Int, reason: String)? {
            func named(_ sequence: ArraySlice<UInt8>, _ why: String = "") -> String {
                let hex = sequence.map { "0x" + ($0 < 0x10 ? "0" : "") + String($0, radix: 16, uppercase: true) }
                let subject = sequence.count == 1 ? "the byte \(hex[0]) is" : "the bytes \(hex.joined(separator: " ")) are"
                return "\(subject) not UTF-8\(why); JSON files must be UTF-8"
            }
            func unicode(_ value: UInt32) -> String {
                let digits = String(value, radix: 16, uppercase: true)
                return "U+" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
            }
            var index = 0
            while index < bytes.count {
                let lead = bytes[index]
                let length: Int
                switch lead {
                case 0x00...0x7F: index += 1; continue
                case 0xC0...0xDF: length = 2
                case 0xE0...0xEF: length = 3
                case 0xF0...0xF7: length = 4
                default: return (index, named(bytes[index...index]))  // a continuation byte, or 0xF8...0xFF
                }
                var end = index + 1
                var value = UInt32(lead) & (0xFF >> (length + 1))
                while end < index + length, end < bytes.count, bytes[end] & 0xC0 == 0x80 {
                    value = value << 6 | UInt32(bytes[end] & 0x3F)
                    end += 1
                }
                let sequence = bytes[index..<end]
                guard end == index + length else { return (index, named(sequence)) }  // cut short
                let smallest: UInt32 = [0, 0, 0x80, 0x800, 0x10000][length]  // below: an overlong form
                switch value {
                case ..<smallest:
                    return (index, named(sequence, " (an overlong encoding of \(unicode(value)))"))
                case 0xD800...0xDFFF:
                    return (index, named(sequence, " (they encode \(unicode(value)), half of a UTF-16 surrogate pair)"))
                case 0x110000...:
                    return (index, named(sequence, " (they encode \(unicode(value)), beyond the last code point, U+10FFFF)"))
                default:
                    index = end
                }
            }
            return nil
        }

        mutating func skipWhitespace() {
            while index < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[index]) { index += 1 }
        }

        mutating func expect(_ word: String) throws(ParseError) {
            let expected = Array(word.utf8)
            guard bytes.count - index >= expected.count, Array(bytes[index..<index + expected.count]) == expected else {
                throw error("expected \(word)")
            }
            index += expected.count
        }

        mutating func value(depth: Int) throws(ParseError) -> JSONDocument {
            guard depth < Self.maximumDepth else { throw error("nested more than \(Self.maximumDepth) levels deep") }
            guard index < bytes.count else { throw error("unexpected end of the file") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
            default: throw error("unexpected character")
            }
        }

        mutating func object(depth: Int) throws(ParseError) -> JSONDocument {
            index += 1
            var members: [(key: String, value: JSONDocument)] = []
            // The keys so far (as UTF-8: keys that differ only in Unicode normalisation are two
            // keys to Go and Python, though Swift's == calls them equal), once there are enough
            // that comparing with each costs more.
            var keys: Set<[UInt8]>?
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a key in double quotes") }
                let keyStart = index
                let key = try string()
                skipWhitespace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected \":\" after the key") }
                index += 1
                skipWhitespace()
                let value = try value(depth: depth + 1)
                let isDuplicate: Bool
                if keys != nil {
                    isDuplicate = !keys!.insert(Array(key.utf8)).inserted
                } else {
                    isDuplicate = members.contains { $0.key.utf8.elementsEqual(key.utf8) }
                    if members.count == 16 { keys = Set((members.map(\.key) + [key]).map { Array($0.utf8) }) }
                }
                if isDuplicate {
                    // Docker (Go) merges repeated objects, other readers keep the first or the last:
                    // rewriting such a file could lose what one of them sees, and two readers of
                    // one reply could see different credentials.
                    index = keyStart
                    var duplicate = error("the key \"\(key)\" appears twice in this object; keep one")
                    duplicate.duplicateKey = key
                    throw duplicate
                }
                members.append((key, value))
                skipWhitespace()
                guard index < bytes.count else { throw error("unexpected end of the file: expected \",\" or \"}\"") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard bytes[index] == UInt8(ascii: "}") else { throw error("expected \",\" or \"}\"") }
                index += 1
                return .object(members)
            }
        }

        mutating func array(depth: Int) throws(ParseError) -> JSONDocument {
            index += 1
            var elements: [JSONDocument] = []
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            while true {
                skipWhitespace()
                elements.append(try value(depth: depth + 1))
                skipWhitespace()
                guard index < bytes.count else { throw error("unexpected end of the file: expected \",\" or \"]\"") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard bytes[index] == UInt8(ascii: "]") else { throw error("expected \",\" or \"]\"") }
                index += 1
                return .array(elements)
            }
        }

        mutating func number() throws(ParseError) -> String {
            let start = index
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            func digits() -> Int {
                let from = index
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                return index - from
            }
            let integerStart = index
            let integerDigits = digits()
            guard integerDigits > 0 else { throw error("expected a digit") }
            guard integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else {
                index = integerStart
                throw error("a number does not start with 0 unless it is 0")
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard digits() > 0 else { throw error("expected a digit after \".\"") }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { throw error("expected a digit in the exponent") }
            }
            return String(decoding: bytes[start..<index], as: UTF8.self)
        }

        mutating func string() throws(ParseError) -> String {
            index += 1
            // The string's UTF-8, escapes written out, made into a String once at the end: one
            // buffer, so a string of many escapes costs linear time.
            var text: [UInt8] = []
            func append(_ scalar: Unicode.Scalar) {
                let value = scalar.value
                switch value {
                case ..<0x80:
                    text.append(UInt8(value))
                case ..<0x800:
                    text.append(UInt8(0xC0 | value >> 6))
                    text.append(UInt8(0x80 | value & 0x3F))
                case ..<0x10000:
                    text.append(UInt8(0xE0 | value >> 12))
                    text.append(UInt8(0x80 | value >> 6 & 0x3F))
                    text.append(UInt8(0x80 | value & 0x3F))
                default:
                    text.append(UInt8(0xF0 | value >> 18))
                    text.append(UInt8(0x80 | value >> 12 & 0x3F))
                    text.append(UInt8(0x80 | value >> 6 & 0x3F))
                    text.append(UInt8(0x80 | value & 0x3F))
                }
            }
            while true {
                guard index < bytes.count else { throw error("unterminated string") }
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return String(decoding: text, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    index += 1
                    guard index < bytes.count else { throw error("unterminated string") }
                    let escaped = bytes[index]
                    index += 1
                    switch escaped {
                    case UInt8(ascii: "\""): append("\"")
                    case UInt8(ascii: "\\"): append("\\")
                    case UInt8(ascii: "/"): append("/")
                    case UInt8(ascii: "b"): append("\u{08}")
                    case UInt8(ascii: "f"): append("\u{0C}")
                    case UInt8(ascii: "n"): append("\n")
                    case UInt8(ascii: "r"): append("\r")
                    case UInt8(ascii: "t"): append("\t")
                    case UInt8(ascii: "u"):
                        let escape = index - 2
                        var value = try hex4()
                        // Half a pair, alone, stands for no character: refused, never read as U+FFFD.
                        func unpaired() -> ParseError {
                            index = escape
                            let written = String(decoding: bytes[escape..<escape + 6], as: UTF8.self)
                            var unpaired = error("\(written) is half of a UTF-16 surrogate pair without its other half")
                            unpaired.isEncoding = true
                            return unpaired
                        }
                        if (0xD800..<0xDC00).contains(value) {
                            guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                                throw unpaired()
                            }
                            index += 2
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw unpaired() }
                            value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let scalar = Unicode.Scalar(value) else { throw unpaired() }
                        append(scalar)
                    default:
                        index -= 1
                        throw error("invalid escape")
                    }
                default:
                    guard byte >= 0x20 else { throw error("control character in a string") }
                    text.append(byte)
                    index += 1
                }
            }
        }

        mutating func hex4() throws(ParseError) -> UInt32 {
            // Four hex digits exactly: UInt32(_:radix:) alone would take "+041" or "-000" too.
            let isHexDigit = { (byte: UInt8) in (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte | 0x20) }
            guard bytes.count - index >= 4, bytes[index..<index + 4].allSatisfy(isHexDigit),
                  let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16) else {
                throw error("expected four hex digits after \\u")
            }
            index += 4
            return value
        }
    }

    // MARK: editing

    /// The member `key` of an object; nil for other values or a missing key.
    package subscript(key: String) -> JSONDocument? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// Sets (replacing in place, or appending) or, with nil, removes the member `key` of an object.
    package mutating func set(_ key: String, to value: JSONDocument?) {
        guard case .object(var members) = self else { return }
        if let position = members.firstIndex(where: { $0.key == key }) {
            if let value { members[position].value = value } else { members.remove(at: position) }
        } else if let value {
            members.append((key, value))
        }
        self = .object(members)
    }

    /// The string, for a string value.
    package var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The members, for an object.
    package var members: [(key: String, value: JSONDocument)]? {
        if case .object(let members) = self { return members }
        return nil
    }

    // MARK: writing

    /// The text as docker writes its config file: tab indentation, one member per line, keys
    /// in their order, a final newline.
    package var text: String {
        var output = ""
        write(to: &output, indent: "")
        return output + "\n"
    }

    private func write(to output: inout String, indent: String) {
        switch self {
        case .object(let members):
            guard !members.isEmpty else { output += "{}"; return }
            output += "{\n"
            for (offset, member) in members.enumerated() {
                output += indent + "\t" + JSONText.quote(member.key) + ": "
                member.value.write(to: &output, indent: indent + "\t")
                output += offset == members.count - 1 ? "\n" : ",\n"
            }
            output += indent + "}"
        case .array(let elements):
            guard !elements.isEmpty else { output += "[]"; return }
            output += "[\n"
            for (offset, element) in elements.enumerated() {
                output += indent + "\t"
                element.write(to: &output, indent: indent + "\t")
                output += offset == elements.count - 1 ? "\n" : ",\n"
            }
            output += indent + "]"
        case .string(let text): output += JSONText.quote(text)
        case .number(let text): output += text
        case .bool(let value): output += value ? "true" : "false"
        case .null: output += "null"
        }
    }
}
