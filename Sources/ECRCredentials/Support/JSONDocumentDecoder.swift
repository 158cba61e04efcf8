// A Decoder over parsed JSON: Codable types read from a JSONDocument, as JSONDecoder reads them.

/// Decodes `Decodable` values from a `JSONDocument`, with `JSONDecoder`'s rules where this
/// library's types depend on them.
///
/// - A number decodes as any integer type when it is a whole number in the type's range (`1.0`
///   and `1e3` included), and as `Double` or `Float` when it is finite and not rounded to zero;
///   `true` and `false` only as `Bool`; strings only as `String`.
/// - `null` and a missing key are nil for optionals; for anything else they throw
///   `DecodingError.valueNotFound` and `.keyNotFound`.
/// - Errors are the standard library's `DecodingError`s, with the coding path of the value.
///
/// It uses no dynamic casts and no reflection: each value is decoded through the static type
/// the caller names, which keeps a process that decodes once from paying the start-up cost of
/// looking up protocol conformances.
package struct JSONDocumentDecoder: Decoder {
    /// The value being decoded.
    let value: JSONDocument
    /// Where `value` is in the document.
    package let codingPath: [any CodingKey]
    /// Empty: no decoding options.
    package var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// A decoder of `value`, found at `codingPath` in its document.
    package init(_ value: JSONDocument, codingPath: [any CodingKey] = []) {
        self.value = value
        self.codingPath = codingPath
    }

    /// The members of an object; a type error for any other value.
    package func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else {
            throw Self.mismatch([String: JSONDocument].self, value, codingPath)
        }
        return KeyedDecodingContainer(Keyed<Key>(members: members, codingPath: codingPath))
    }

    /// The elements of an array; a type error for any other value.
    package func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else {
            throw Self.mismatch([JSONDocument].self, value, codingPath)
        }
        return Unkeyed(elements: elements, codingPath: codingPath)
    }

    /// The value itself.
    package func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValue(value: value, codingPath: codingPath)
    }

    // MARK: values

    /// The error for `value` where a `type` was expected: `valueNotFound` for null.
    static func mismatch(_ type: Any.Type, _ value: JSONDocument, _ path: [any CodingKey]) -> DecodingError {
        let found: String
        switch value {
        case .null:
            return .valueNotFound(type, .init(codingPath: path, debugDescription: "Cannot get value of type \(type) -- found null value instead"))
        case .object: found = "a dictionary"
        case .array: found = "an array"
        case .string: found = "a string"
        case .number: found = "a number"
        case .bool: found = "bool"
        }
        return .typeMismatch(type, .init(codingPath: path, debugDescription: "Expected to decode \(type) but found \(found) instead."))
    }

    /// The error for a number that `type` cannot hold.
    static func unrepresentable(_ text: String, _ type: Any.Type, _ path: [any CodingKey]) -> DecodingError {
        .dataCorrupted(.init(codingPath: path, debugDescription: "Parsed JSON number <\(text)> does not fit in \(type)."))
    }

    static func bool(_ value: JSONDocument, _ path: [any CodingKey]) throws -> Bool {
        guard case .bool(let bool) = value else { throw mismatch(Bool.self, value, path) }
        return bool
    }

    static func string(_ value: JSONDocument, _ path: [any CodingKey]) throws -> String {
        guard case .string(let text) = value else { throw mismatch(String.self, value, path) }
        return text
    }

    static func double(_ value: JSONDocument, _ path: [any CodingKey]) throws -> Double {
        guard case .number(let text) = value else { throw mismatch(Double.self, value, path) }
        guard let double = Double(text), double.isFinite, double != 0 || !hasNonZeroDigit(text) else {
            throw unrepresentable(text, Double.self, path)
        }
        return double
    }

    static func float(_ value: JSONDocument, _ path: [any CodingKey]) throws -> Float {
        guard case .number(let text) = value else { throw mismatch(Float.self, value, path) }
        guard let float = Float(text), float.isFinite, float != 0 || !hasNonZeroDigit(text) else {
            throw unrepresentable(text, Float.self, path)
        }
        return float
    }

    static func integer<Integer: FixedWidthInteger>(_ value: JSONDocument, _ path: [any CodingKey]) throws -> Integer {
        guard case .number(let text) = value else { throw mismatch(Integer.self, value, path) }
        if let integer = Integer(text) { return integer }
        // A fraction or an exponent: a whole number in range is still that integer.
        if text.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }),
           let double = Double(text), let integer = Integer(exactly: double) {
            return integer
        }
        throw unrepresentable(text, Integer.self, path)
    }

    /// Whether the digits before any exponent include one that is not 0 (so a value of zero
    /// means the number was too small to hold).
    private static func hasNonZeroDigit(_ text: String) -> Bool {
        for byte in text.utf8 {
            if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") { return false }
            if byte >= UInt8(ascii: "1") && byte <= UInt8(ascii: "9") { return true }
        }
        return false
    }

    // MARK: containers

    /// A key in a coding path that no `CodingKeys` names: an array element (`Index N`) or `super`.
    struct PathKey: CodingKey {
        let stringValue: String
        let intValue: Int?
        init(index: Int) { (stringValue, intValue) = ("Index \(index)", index) }
        init(stringValue: String) { (self.stringValue, intValue) = (stringValue, nil) }
        init(intValue: Int) { self.init(index: intValue) }
    }

    /// The members of an object, by key.
    struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let members: [(key: String, value: JSONDocument)]
        /// The members by key, for objects with more than a few.
        let index: [String: JSONDocument]?
        let codingPath: [any CodingKey]

        init(members: [(key: String, value: JSONDocument)], codingPath: [any CodingKey]) {
            self.members = members
            // The parser refused repeated keys, so each key is unique.
            index = members.count > 8 ? Dictionary(uniqueKeysWithValues: members.map { ($0.key, $0.value) }) : nil
            self.codingPath = codingPath
        }

        var allKeys: [Key] { members.compactMap { Key(stringValue: $0.key) } }

        func member(_ key: Key) -> JSONDocument? {
            if let index { return index[key.stringValue] }
            let name = key.stringValue
            return members.first { $0.key == name }?.value
        }

        func contains(_ key: Key) -> Bool { member(key) != nil }

        func value(_ key: Key) throws -> JSONDocument {
            guard let value = member(key) else {
                throw DecodingError.keyNotFound(key, .init(
                    codingPath: codingPath, debugDescription: "No value associated with key \(key) (\"\(key.stringValue)\")."))
            }
            return value
        }

        func path(_ key: Key) -> [any CodingKey] { codingPath + [key] }

        func decodeNil(forKey key: Key) throws -> Bool {
            if case .null = try value(key) { return true }
            return false
        }

        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try JSONDocumentDecoder.bool(value(key), path(key)) }
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try JSONDocumentDecoder.string(value(key), path(key)) }
        func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try JSONDocumentDecoder.double(value(key), path(key)) }
        func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try JSONDocumentDecoder.float(value(key), path(key)) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try JSONDocumentDecoder.integer(value(key), path(key)) }
        func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try JSONDocumentDecoder.integer(value(key), path(key)) }
        func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try JSONDocumentDecoder.integer(value(key), path(key)) }
        func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try JSONDocumentDecoder.integer(value(key), path(key)) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try JSONDocumentDecoder.integer(value(key), path(key)) }
        func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try JSONDocumentDecoder.integer(value(key), path(key)) }
        func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try JSONDocumentDecoder.integer(value(key), path(key)) }
        func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try JSONDocumentDecoder.integer(value(key), path(key)) }
        func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try JSONDocumentDecoder.integer(value(key), path(key)) }
        func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try JSONDocumentDecoder.integer(value(key), path(key)) }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try T(from: JSONDocumentDecoder(value(key), codingPath: path(key)))
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            try JSONDocumentDecoder(value(key), codingPath: path(key)).container(keyedBy: type)
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            try JSONDocumentDecoder(value(key), codingPath: path(key)).unkeyedContainer()
        }

        func superDecoder() throws -> any Decoder {
            let key = PathKey(stringValue: "super")
            return JSONDocumentDecoder(members.first { $0.key == key.stringValue }?.value ?? .null, codingPath: codingPath + [key])
        }

        func superDecoder(forKey key: Key) throws -> any Decoder {
            JSONDocumentDecoder(member(key) ?? .null, codingPath: path(key))
        }
    }

    /// The elements of an array, in order.
    struct Unkeyed: UnkeyedDecodingContainer {
        let elements: [JSONDocument]
        let codingPath: [any CodingKey]
        var currentIndex = 0

        init(elements: [JSONDocument], codingPath: [any CodingKey]) {
            self.elements = elements
            self.codingPath = codingPath
        }

        var count: Int? { elements.count }
        var isAtEnd: Bool { currentIndex >= elements.count }

        /// The next element (not yet consumed) and its coding path.
        func peek(_ type: Any.Type) throws -> (value: JSONDocument, path: [any CodingKey]) {
            let path = codingPath + [PathKey(index: currentIndex)]
            guard !isAtEnd else {
                throw DecodingError.valueNotFound(type, .init(codingPath: path, debugDescription: "Unkeyed container is at end."))
            }
            return (elements[currentIndex], path)
        }

        /// Decodes the next element with `read`, consuming it only when that succeeds.
        mutating func next<T>(_ type: T.Type, _ read: (JSONDocument, [any CodingKey]) throws -> T) throws -> T {
            let (value, path) = try peek(type)
            let result = try read(value, path)
            currentIndex += 1
            return result
        }

        mutating func decodeNil() throws -> Bool {
            guard case .null = try peek(Never.self).value else { return false }
            currentIndex += 1
            return true
        }

        mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type, JSONDocumentDecoder.bool) }
        mutating func decode(_ type: String.Type) throws -> String { try next(type, JSONDocumentDecoder.string) }
        mutating func decode(_ type: Double.Type) throws -> Double { try next(type, JSONDocumentDecoder.double) }
        mutating func decode(_ type: Float.Type) throws -> Float { try next(type, JSONDocumentDecoder.float) }
        mutating func decode(_ type: Int.Type) throws -> Int { try next(type, JSONDocumentDecoder.integer) }
        mutating func decode(_ type: Int8.Type) throws -> Int8 { try next(type, JSONDocumentDecoder.integer) }
        mutating func decode(_ type: Int16.Type) throws -> Int16 { try next(type, JSONDocumentDecoder.integer) }
        mutating func decode(_ type: Int32.Type) throws -> Int32 { try next(type, JSONDocumentDecoder.integer) }
        mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(type, JSONDocumentDecoder.integer) }
        mutating func decode(_ type: UInt.Type) throws -> UInt { try next(type, JSONDocumentDecoder.integer) }
        mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(type, JSONDocumentDecoder.integer) }
        mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(type, JSONDocumentDecoder.integer) }
        mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(type, JSONDocumentDecoder.integer) }
        mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(type, JSONDocumentDecoder.integer) }

        mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try next(type) { value, path in try T(from: JSONDocumentDecoder(value, codingPath: path)) }
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            try next(KeyedDecodingContainer<NestedKey>.self) { value, path in
                try JSONDocumentDecoder(value, codingPath: path).container(keyedBy: type)
            }
        }

        mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            try next((any UnkeyedDecodingContainer).self) { value, path in
                try JSONDocumentDecoder(value, codingPath: path).unkeyedContainer()
            }
        }

        mutating func superDecoder() throws -> any Decoder {
            try next((any Decoder).self) { value, path in JSONDocumentDecoder(value, codingPath: path) }
        }
    }

    /// One value.
    struct SingleValue: SingleValueDecodingContainer {
        let value: JSONDocument
        let codingPath: [any CodingKey]

        func decodeNil() -> Bool {
            if case .null = value { return true }
            return false
        }

        func decode(_ type: Bool.Type) throws -> Bool { try JSONDocumentDecoder.bool(value, codingPath) }
        func decode(_ type: String.Type) throws -> String { try JSONDocumentDecoder.string(value, codingPath) }
        func decode(_ type: Double.Type) throws -> Double { try JSONDocumentDecoder.double(value, codingPath) }
        func decode(_ type: Float.Type) throws -> Float { try JSONDocumentDecoder.float(value, codingPath) }
        func decode(_ type: Int.Type) throws -> Int { try JSONDocumentDecoder.integer(value, codingPath) }
        func decode(_ type: Int8.Type) throws -> Int8 { try JSONDocumentDecoder.integer(value, codingPath) }
        func decode(_ type: Int16.Type) throws -> Int16 { try JSONDocumentDecoder.integer(value, codingPath) }
        func decode(_ type: Int32.Type) throws -> Int32 { try JSONDocumentDecoder.integer(value, codingPath) }
        func decode(_ type: Int64.Type) throws -> Int64 { try JSONDocumentDecoder.integer(value, codingPath) }
        func decode(_ type: UInt.Type) throws -> UInt { try JSONDocumentDecoder.integer(value, codingPath) }
        func decode(_ type: UInt8.Type) throws -> UInt8 { try JSONDocumentDecoder.integer(value, codingPath) }
        func decode(_ type: UInt16.Type) throws -> UInt16 { try JSONDocumentDecoder.integer(value, codingPath) }
        func decode(_ type: UInt32.Type) throws -> UInt32 { try JSONDocumentDecoder.integer(value, codingPath) }
        func decode(_ type: UInt64.Type) throws -> UInt64 { try JSONDocumentDecoder.integer(value, codingPath) }

        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try T(from: JSONDocumentDecoder(value, codingPath: codingPath))
        }
    }
}
