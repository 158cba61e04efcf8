// The order-keeping JSON reader on text that is not UTF-8 or holds half a surrogate pair.
import ECRCredentials
import Testing

@Suite struct JSONDocumentTests {
    /// `before`, the raw bytes, then `after`.
    static func bytes(_ before: String, _ raw: [UInt8] = [], _ after: String = "") -> [UInt8] {
        Array(before.utf8) + raw + Array(after.utf8)
    }

    static let notUTF8 = "; JSON files must be UTF-8"
    static let halfAPair = " is half of a UTF-16 surrogate pair without its other half"

    @Test(arguments: [
        // Latin-1 text: a lone 0xE9 (é) would have become U+FFFD on the next rewrite.
        (bytes(#"{"x":"caf"#, [0xE9], #""}"#), 1, 10, "the byte 0xE9 is not UTF-8" + notUTF8),
        (bytes("{\n \"é\": \"caf", [0xE9], "\"}"), 2, 11, "the byte 0xE9 is not UTF-8" + notUTF8),
        (bytes("{}", [0xE9]), 1, 3, "the byte 0xE9 is not UTF-8" + notUTF8),
        (bytes(#"[""#, [0x80], #""]"#), 1, 3, "the byte 0x80 is not UTF-8" + notUTF8),
        (bytes(#"[""#, [0xFF], #""]"#), 1, 3, "the byte 0xFF is not UTF-8" + notUTF8),
        (bytes(#"[""#, [0xE2, 0x82], #""]"#), 1, 3, "the bytes 0xE2 0x82 are not UTF-8" + notUTF8),
        (bytes(#"[""#, [0xF0, 0x9F, 0x98]), 1, 3, "the bytes 0xF0 0x9F 0x98 are not UTF-8" + notUTF8),
        (bytes(#"[""#, [0xC0, 0xAF], #""]"#), 1, 3, "the bytes 0xC0 0xAF are not UTF-8 (an overlong encoding of U+002F)" + notUTF8),
        (bytes(#"[""#, [0xE0, 0x80, 0x80], #""]"#), 1, 3, "the bytes 0xE0 0x80 0x80 are not UTF-8 (an overlong encoding of U+0000)" + notUTF8),
        (bytes(#"[""#, [0xF0, 0x82, 0x82, 0xAC], #""]"#), 1, 3,
         "the bytes 0xF0 0x82 0x82 0xAC are not UTF-8 (an overlong encoding of U+20AC)" + notUTF8),
        (bytes(#"[""#, [0xED, 0xA0, 0x80], #""]"#), 1, 3,
         "the bytes 0xED 0xA0 0x80 are not UTF-8 (they encode U+D800, half of a UTF-16 surrogate pair)" + notUTF8),
        (bytes(#"[""#, [0xED, 0xBF, 0xBF], #""]"#), 1, 3,
         "the bytes 0xED 0xBF 0xBF are not UTF-8 (they encode U+DFFF, half of a UTF-16 surrogate pair)" + notUTF8),
        (bytes(#"[""#, [0xF4, 0x90, 0x80, 0x80], #""]"#), 1, 3,
         "the bytes 0xF4 0x90 0x80 0x80 are not UTF-8 (they encode U+110000, beyond the last code point, U+10FFFF)" + notUTF8),
        (bytes(#"[""#, [0xF5, 0x80, 0x80, 0x80], #""]"#), 1, 3,
         "the bytes 0xF5 0x80 0x80 0x80 are not UTF-8 (they encode U+140000, beyond the last code point, U+10FFFF)" + notUTF8),
        // Half a pair in an escape would have become U+FFFD too.
        (bytes(#"{"x":"\ud800"}"#), 1, 7, #"\ud800"# + halfAPair),
        (bytes(#"{"x":"\uDBFF"}"#), 1, 7, #"\uDBFF"# + halfAPair),
        (bytes(#"{"x":"\udc00"}"#), 1, 7, #"\udc00"# + halfAPair),
        (bytes(#"{"x":"\ud800\u0041"}"#), 1, 7, #"\ud800"# + halfAPair),
        (bytes(#"{"x":"\ud800\ud800"}"#), 1, 7, #"\ud800"# + halfAPair),
        (bytes(#"{"x":"\ude00\ud83d"}"#), 1, 7, #"\ude00"# + halfAPair),
        (bytes(#"{"x":"é\ud83d"}"#), 1, 8, #"\ud83d"# + halfAPair),
        (bytes(#"{"x":"\ud83d\n"}"#), 1, 7, #"\ud83d"# + halfAPair),
        (bytes(#"{"x":"\ud83d\u12"}"#), 1, 15, #"expected four hex digits after \u"#),
        // Four hex digits, not an integer's spelling.
        (bytes(#"["\u+041"]"#), 1, 5, #"expected four hex digits after \u"#),
        (bytes(#"["\u-000"]"#), 1, 5, #"expected four hex digits after \u"#),
        // Numbers in JSON's grammar only.
        (bytes(#"{"x":01}"#), 1, 6, "a number does not start with 0 unless it is 0"),
        (bytes("[1,\n -00.5]"), 2, 3, "a number does not start with 0 unless it is 0"),
        (bytes(#"[1,]"#), 1, 4, "unexpected character"),
        // A key twice, also in an object large enough that a set keeps its keys.
        (bytes(#"{"a":1,"a":2}"#), 1, 8, #"the key "a" appears twice in this object; keep one"#),
        (bytes("{" + (0..<40).map { "\"k\($0)\":1," }.joined() + #""k3":2}"#), 1, 312, #"the key "k3" appears twice in this object; keep one"#),
    ])
    func refusedWithLineAndColumn(text: [UInt8], line: Int, column: Int, reason: String) {
        #expect {
            _ = try JSONDocument(parsing: text)
        } throws: { error in
            guard let error = error as? JSONDocument.ParseError else { return false }
            return (error.line, error.column, error.reason) == (line, column, reason)
        }
    }

    @Test(arguments: [
        (bytes(#"["\ud83d\ude00"]"#), "\u{1F600}"),
        (bytes(#"["\uD83D\uDE00"]"#), "\u{1F600}"),
        (bytes(#"["\udbff\udfff"]"#), "\u{10FFFF}"),
        (bytes(#"["\ud7ff\ue000\uFFFD"]"#), "\u{D7FF}\u{E000}\u{FFFD}"),
        (bytes(#"[""#, [0xC2, 0x80, 0xDF, 0xBF], #""]"#), "\u{80}\u{7FF}"),
        (bytes(#"[""#, [0xE0, 0xA0, 0x80, 0xED, 0x9F, 0xBF, 0xEE, 0x80, 0x80, 0xEF, 0xBF, 0xBF], #""]"#), "\u{800}\u{D7FF}\u{E000}\u{FFFF}"),
        (bytes(#"[""#, [0xF0, 0x90, 0x80, 0x80, 0xF4, 0x8F, 0xBF, 0xBF], #""]"#), "\u{10000}\u{10FFFF}"),
        (bytes(#"["caf\u00e9 "#, [0xF0, 0x9F, 0x9A, 0x80], #""]"#), "café 🚀"),
    ])
    func everyUTF8TextAndEveryPairIsRead(text: [UInt8], expected: String) throws {
        let document = try JSONDocument(parsing: text)
        #expect(document == .array([.string(expected)]))
        #expect(try JSONDocument(parsing: Array(document.text.utf8)) == document)
    }

    /// Keys that differ only in Unicode normalisation are two keys, as Go and Python read them
    /// (Swift's `==` calls them equal), in small objects and in those large enough for a set.
    @Test(arguments: [0, 20])
    func keysAreComparedByTheirUTF8(padding: Int) throws {
        let filler = (0..<padding).map { "\"k\($0)\":0," }.joined()
        let document = try JSONDocument(parsing: Self.bytes("{" + filler + #""caf\u00e9":1,"cafe\u0301":2}"#))
        guard case .object(let members) = document else { Issue.record("not an object"); return }
        #expect(members.count == padding + 2)
        #expect(throws: JSONDocument.ParseError.self) {
            try JSONDocument(parsing: Self.bytes("{" + filler + #""caf\u00e9":1,"caf\u00E9":2}"#))
        }
    }

    /// A string of many escapes is read in time linear in its length: sixteen times the escapes
    /// take about sixteen times as long (the fastest of three tries each), not 256 times. The
    /// bound of 64 leaves room either way for a machine busy with other tests.
    @Test func manyEscapesCostLinearTime() throws {
        func fastest(_ escapes: Int) throws -> Double {
            let text = Self.bytes("[\"" + String(repeating: #"\n\u00e9"#, count: escapes) + "\"]")
            var best = Double.infinity
            for _ in 0..<3 {
                let start = MonotonicTime.seconds()
                let document = try JSONDocument(parsing: text)
                best = min(best, MonotonicTime.seconds() - start)
                #expect(document == .array([.string(String(repeating: "\né", count: escapes))]))
            }
            return best
        }
        let small = try fastest(10_000)
        let large = try fastest(160_000)
        #expect(large < small * 64, "10,000 escapes: \(small) s; 160,000: \(large) s")
    }
}
