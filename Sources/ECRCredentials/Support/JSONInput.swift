// Decoding JSON from outside (servers, files, child processes, stdin), refusing duplicate keys.

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

    /// Decodes `bytes` as `type`: `JSONDocument` parses them (a UTF-8 byte order mark and white
    /// space around the value are allowed) and `JSONDocumentDecoder` decodes the value.
    /// - Throws: `DuplicateKey` for an object with a key twice; `DecodingError.dataCorrupted`
    ///   (its underlying error the `JSONDocument.ParseError`) for text that is not JSON; the
    ///   other `DecodingError`s, with their coding paths, for JSON that is not a `type`.
    package static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        let document: JSONDocument
        do {
            document = try JSONDocument(parsing: withoutByteOrderMark(bytes))
        } catch {
            if let key = error.duplicateKey { throw DuplicateKey(key: key) }
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "The given data was not valid JSON: \(error)",
                                                    underlyingError: error))
        }
        return try T(from: JSONDocumentDecoder(document))
    }

    /// `bytes` without a leading UTF-8 byte order mark, which some Windows editors and tools
    /// write and RFC 8259 lets a reader ignore.
    package static func withoutByteOrderMark(_ bytes: [UInt8]) -> [UInt8] {
        bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
    }
}
