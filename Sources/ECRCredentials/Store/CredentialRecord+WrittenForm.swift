// A credential record file in the one form FileCredentialStore writes: writing it, and reading it
// back without the generic decoder.

extension CredentialRecord {
    /// The record file's bytes: a JSON object with the keys sorted and no white space, then a
    /// newline, byte for byte what earlier versions wrote with Foundation's `JSONEncoder` and
    /// `.sortedKeys` (`/` written as `\/`, `expiresAt` left out when nil). Older and newer
    /// versions so read each other's files, and `decodeWrittenForm` reads every one.
    /// - Throws: `EncodingError.invalidValue` for a time that is NaN or infinite, as the encoder did.
    func writtenForm() throws -> [UInt8] {
        for (key, value) in [("issuedAt", issuedAt), ("expiresAt", expiresAt ?? 0)] where !value.isFinite {
            throw EncodingError.invalidValue(value, .init(codingPath: [JSONDocumentDecoder.PathKey(stringValue: key)],
                                                          debugDescription: "Unable to encode Double.\(value) directly in JSON."))
        }
        var output: [UInt8] = [UInt8(ascii: "{")]
        func member(_ key: StaticString, _ value: [UInt8], last: Bool = false) {
            output.append(UInt8(ascii: "\""))
            output.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
            output.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
            output.append(contentsOf: value)
            if !last { output.append(UInt8(ascii: ",")) }
        }
        if let expiresAt { member("expiresAt", Self.number(expiresAt)) }
        member("identity", Self.string(identity))
        member("issuedAt", Self.number(issuedAt))
        member("kind", Self.string(kind.rawValue))
        member("registry", Self.string(registry))
        member("secret", Self.string(secret))
        member("serverURL", Self.string(serverURL))
        member("username", Self.string(username))
        member("version", Array(String(version).utf8), last: true)
        output.append(contentsOf: [UInt8(ascii: "}"), 0x0A])
        return output
    }

    /// `value` as `JSONEncoder` writes a Double: its shortest description, without a final `.0`.
    private static func number(_ value: Double) -> [UInt8] {
        var text = Array(value.description.utf8)
        if text.count > 2, text[text.count - 2] == UInt8(ascii: "."), text[text.count - 1] == UInt8(ascii: "0") {
            text.removeLast(2)
        }
        return text
    }

    /// `text` quoted as `JSONEncoder` quotes it: `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, and
    /// `\u00XX` for the other control characters.
    private static func string(_ text: String) -> [UInt8] {
        var output: [UInt8] = [UInt8(ascii: "\"")]
        output.reserveCapacity(text.utf8.count + 2)
        let digits = Array("0123456789abcdef".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output += [UInt8(ascii: "\\"), byte]
            case 0x08: output += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: output += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x0A: output += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: output += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: output += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x00..<0x20:
                output += Array("\\u00".utf8) + [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
            default: output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
        return output
    }

    /// The record in `bytes` when they are spelled exactly as `FileCredentialStore` writes a
    /// record (JSONEncoder with sorted keys, then a newline); nil for any other spelling, which
    /// the caller then gives to `JSONInput` (and its verdict).
    ///
    /// A cache hit reads one record, and the first use of the generic decoder costs more than the
    /// rest of the hit (type metadata and protocol conformances looked up at run time). This reader
    /// accepts one spelling only: every known key once, in the encoder's order, no white space,
    /// strings with only the escapes `\" \\ \/ \b \f \n \r \t`, numbers in plain JSON grammar. So
    /// whatever it accepts, the full decoder reads as the same record; duplicate or unknown keys,
    /// other layouts and garbage all go the full way.
    static func decodeWrittenForm(_ bytes: [UInt8]) -> CredentialRecord? {
        var reader = WrittenFormReader(bytes: bytes)
        return reader.record()
    }
}

/// A cursor over the bytes of one record file; every method returns nil (or false) at the first
/// byte that is not the written form.
private struct WrittenFormReader {
    let bytes: [UInt8]
    var index = 0

    /// The longest number accepted; the encoder writes at most 24 characters for a Double.
    static let maximumNumberLength = 32

    mutating func record() -> CredentialRecord? {
        guard take(UInt8(ascii: "{")) else { return nil }
        // The keys in the order JSONEncoder's `.sortedKeys` writes them; `expiresAt` is left out
        // when it is nil.
        var expiresAt: Double?
        if take(key: "expiresAt") {
            guard let value = number(), take(UInt8(ascii: ",")) else { return nil }
            expiresAt = value
        }
        guard take(key: "identity"), let identity = string(), take(UInt8(ascii: ",")),
              take(key: "issuedAt"), let issuedAt = number(), take(UInt8(ascii: ",")),
              take(key: "kind"), let kindName = string(), let kind = CredentialRecord.Kind(rawValue: kindName), take(UInt8(ascii: ",")),
              take(key: "registry"), let registry = string(), take(UInt8(ascii: ",")),
              take(key: "secret"), let secret = string(), take(UInt8(ascii: ",")),
              take(key: "serverURL"), let serverURL = string(), take(UInt8(ascii: ",")),
              take(key: "username"), let username = string(), take(UInt8(ascii: ",")),
              take(key: "version"), let version = integer(),
              take(UInt8(ascii: "}"))
        else { return nil }
        // The newline the store writes after the object, and nothing else.
        _ = take(0x0A)
        guard index == bytes.count else { return nil }
        var record = CredentialRecord(kind: kind, registry: registry, serverURL: serverURL, identity: identity,
                                      username: username, secret: secret, issuedAt: issuedAt, expiresAt: expiresAt)
        record.version = version
        return record
    }

    /// Whether `byte` is next.
    func peek(_ byte: UInt8) -> Bool {
        index < bytes.count && bytes[index] == byte
    }

    /// Consumes `byte` when it is next.
    mutating func take(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    /// Consumes `"name":` when it is next (`name` is plain ASCII).
    mutating func take(key name: StaticString) -> Bool {
        let length = name.utf8CodeUnitCount
        guard bytes.count - index >= length + 3, bytes[index] == UInt8(ascii: "\""),
              bytes[index + length + 1] == UInt8(ascii: "\""), bytes[index + length + 2] == UInt8(ascii: ":")
        else { return false }
        let start = name.utf8Start
        for offset in 0..<length where bytes[index + 1 + offset] != start[offset] {
            return false
        }
        index += length + 3
        return true
    }

    /// A string: valid UTF-8, no control characters, only the escapes the encoder writes for
    /// printable text (a `\u` escape is left to the full decoder).
    mutating func string() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        // Most strings (hosts, names, the base64 token of a few thousand bytes) have no escape:
        // they are the bytes up to the closing quote, found in one pass.
        let start = index
        let closing: Int? = bytes.withUnsafeBufferPointer { buffer in
            var at = start
            while at < buffer.count {
                let byte = buffer[at]
                if byte == UInt8(ascii: "\"") { return at }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
                at += 1
            }
            return nil
        }
        if let closing {
            index = closing + 1
            return String(validating: bytes[start..<closing], as: UTF8.self)
        }
        var text: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(validating: text, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { return nil }
                let escaped = bytes[index]
                index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(escaped)
                case UInt8(ascii: "b"): text.append(0x08)
                case UInt8(ascii: "f"): text.append(0x0C)
                case UInt8(ascii: "n"): text.append(0x0A)
                case UInt8(ascii: "r"): text.append(0x0D)
                case UInt8(ascii: "t"): text.append(0x09)
                default: return nil
                }
            case 0x00..<0x20:
                return nil
            default:
                text.append(byte)
            }
        }
        return nil
    }

    /// A finite number in JSON grammar without an exponent: `-?(0|[1-9][0-9]*)(\.[0-9]+)?`. The
    /// encoder writes the times this tool keeps without one; a number with an exponent (which
    /// may underflow to zero where the full decoder refuses it) is left to the full decoder.
    mutating func number() -> Double? {
        let start = index
        _ = take(UInt8(ascii: "-"))
        guard integerDigits() else { return nil }
        if take(UInt8(ascii: ".")) {
            guard digits() > 0 else { return nil }
        }
        if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) { return nil }
        guard index - start <= Self.maximumNumberLength,
              let value = Double(String(decoding: bytes[start..<index], as: UTF8.self)), value.isFinite
        else { return nil }
        return value
    }

    /// A small non-negative integer without sign, fraction or exponent (the format version).
    mutating func integer() -> Int? {
        let start = index
        guard integerDigits(), index - start <= 9 else { return nil }
        var value = 0
        for byte in bytes[start..<index] {
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// Consumes `0` or a digit 1-9 followed by digits.
    private mutating func integerDigits() -> Bool {
        if take(UInt8(ascii: "0")) { return true }
        guard index < bytes.count, (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(bytes[index]) else { return false }
        _ = digits()
        return true
    }

    /// Consumes digits; returns how many.
    private mutating func digits() -> Int {
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            index += 1
        }
        return index - start
    }
}
