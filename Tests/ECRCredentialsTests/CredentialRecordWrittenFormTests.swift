// The direct reader of record files: it reads what the store writes, and agrees with JSONInput or declines.
@testable import ECRCredentials
import Foundation
import Testing

@Suite struct CredentialRecordWrittenFormTests {
    /// The bytes `FileCredentialStore.save` writes for `record`.
    static func written(_ record: CredentialRecord) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(record)) + [0x0A]
    }

    static let base = CredentialRecord(
        kind: .token, registry: "123456789012.dkr.ecr.us-west-2.amazonaws.com",
        serverURL: "https://123456789012.dkr.ecr.us-west-2.amazonaws.com/v2/", identity: "702fc7f26087542636cd915400681313",
        username: "AWS", secret: "eyJwYXlsb2FkIjogImJBRXV0In0=", issuedAt: 1_795_451_224.6770496, expiresAt: 1_795_494_424.692)

    /// Records that vary every field, including the strings and numbers the encoder spells differently.
    static let records: [CredentialRecord] = {
        var records = [base]
        func with(_ change: (inout CredentialRecord) -> Void) {
            var record = base
            change(&record)
            records.append(record)
        }
        with { $0.expiresAt = nil }
        with { $0.kind = .login; $0.identity = ""; $0.expiresAt = nil }
        with { $0.registry = "[fd00::1]:5000"; $0.serverURL = "http://[fd00::1]:5000" }
        with { $0.serverURL = "" }
        with { $0.username = "user \"quoted\" with \\ backslash and / slash" }
        with { $0.secret = "pässwörd ✓ 🐳 tab\tnew\nline\rcr\u{8}\u{C}" }
        with { $0.secret = String(repeating: "x", count: 20_000) }
        with { $0.issuedAt = 0; $0.expiresAt = 100 }
        with { $0.issuedAt = 1; $0.expiresAt = 2.5 }
        with { $0.issuedAt = 1e-7; $0.expiresAt = 0.1 }  // written with an exponent
        with { $0.issuedAt = 253_402_300_799; $0.expiresAt = 1_795_494_424 }
        with { $0.issuedAt = -1.5 }
        return records
    }()

    @Test(arguments: records)
    func readsWhatTheStoreWritesAsTheDecoderDoes(record: CredentialRecord) throws {
        let bytes = try Self.written(record)
        if bytes.contains(UInt8(ascii: "e")) && String(decoding: bytes, as: UTF8.self).contains(/[0-9]e[-+]?[0-9]/) {
            // A time written with an exponent (never one this tool keeps) is left to the full decoder.
            #expect(CredentialRecord.decodeWrittenForm(bytes) == nil)
            #expect(try JSONInput.decode(CredentialRecord.self, from: bytes) == record)
            return
        }
        let direct = try #require(CredentialRecord.decodeWrittenForm(bytes))
        #expect(direct == record)
        #expect(direct == (try JSONInput.decode(CredentialRecord.self, from: bytes)))
        // Without the newline too.
        #expect(CredentialRecord.decodeWrittenForm(Array(bytes.dropLast())) == record)
    }

    @Test func otherVersionsAreReadForTheStoreToRefuse() throws {
        var record = Self.base
        record.version = 2
        let bytes = try Self.written(record)
        #expect(CredentialRecord.decodeWrittenForm(bytes)?.version == 2)
        let scratch = try TemporaryDirectory()
        let store = FileCredentialStore(directory: scratch.path)
        try Data(bytes).write(to: URL(fileURLWithPath: store.path(kind: .token, registry: record.registry, identity: record.identity)))
        #expect(try store.record(kind: .token, registry: record.registry, identity: record.identity) == nil)
    }

    /// Spellings JSON allows but the encoder never writes, and text that is not JSON at all:
    /// the direct reader declines every one; the store's answer is the full decoder's.
    @Test(arguments: [
        // Duplicate keys (the full decoder refuses them).
        #"{"expiresAt":2,"expiresAt":3,"identity":"a","issuedAt":1,"kind":"token","registry":"r","secret":"s","serverURL":"u","username":"AWS","version":1}"#,
        #"{"identity":"a","identity":"b","issuedAt":1,"kind":"token","registry":"r","secret":"s","serverURL":"u","username":"AWS","version":1}"#,
        #"{"identity":"a","issuedAt":1,"kind":"token","registry":"r","secret":"s","serverURL":"u","username":"AWS","version":1,"version":1}"#,
        // Other orders, white space, unknown keys, null, escapes it leaves to the decoder.
        #"{"issuedAt":1,"identity":"a","kind":"token","registry":"r","secret":"s","serverURL":"u","username":"AWS","version":1}"#,
        #"{ "identity":"a","issuedAt":1,"kind":"token","registry":"r","secret":"s","serverURL":"u","username":"AWS","version":1}"#,
        #"{"identity":"a","issuedAt":1,"kind":"token","registry":"r","secret":"s","serverURL":"u","username":"AWS","version":1} "#,
        #"{"identity":"a","issuedAt":1,"kind":"token","registry":"r","secret":"s","serverURL":"u","username":"AWS","version":1}"# + "\n\n",
        #"{"extra":1,"identity":"a","issuedAt":1,"kind":"token","registry":"r","secret":"s","serverURL":"u","username":"AWS","version":1}"#,
        #"{"expiresAt":null,"identity":"a","issuedAt":1,"kind":"token","registry":"r","secret":"s","serverURL":"u","username":"AWS","version":1}"#,
        #"{"identity":"\u0061","issuedAt":1,"kind":"token","registry":"r","secret":"s","serverURL":"u","username":"AWS","version":1}"#,
        #"{"identity":"a","issuedAt":1,"kind":"token","registry":"r","secret":"s","serverURL":"u","username":"AWS","version":1.0}"#,
        #"{"identity":"a","issuedAt":1,"kind":"token","registry":"r","secret":"s","serverURL":"u","username":"AWS","version":01}"#,
        // Not JSON, or not a record.
        #"{"identity":"a","issuedAt":01,"kind":"token","registry":"r","secret":"s","serverURL":"u","username":"AWS","version":1}"#,
        #"{"identity":"a","issuedAt":1.,"kind":"token","registry":"r","secret":"s","serverURL":"u","username":"AWS","version":1}"#,
        #"{"identity":"a","issuedAt":1e999,"kind":"token","registry":"r","secret":"s","serverURL":"u","username":"AWS","version":1}"#,
        #"{"identity":"a","issuedAt":+1,"kind":"token","registry":"r","secret":"s","serverURL":"u","username":"AWS","version":1}"#,
        #"{"identity":"a","issuedAt":1,"kind":"other","registry":"r","secret":"s","serverURL":"u","username":"AWS","version":1}"#,
        #"{"identity":"a","issuedAt":1,"kind":"token","registry":"r","secret":"s\x","serverURL":"u","username":"AWS","version":1}"#,
        #"{"identity":"a","issuedAt":1,"kind":"token","registry":"r","secret":"s","serverURL":"u","username":"AWS"}"#,
        #"{"identity":"a","issuedAt":1,"kind":"token","registry":"r","secret":"s","serverURL":"u","username":"AWS","version":1"#,
        "{\"identity\":\"a\u{1}\",\"issuedAt\":1,\"kind\":\"token\",\"registry\":\"r\",\"secret\":\"s\",\"serverURL\":\"u\",\"username\":\"AWS\",\"version\":1}",
        "", "{", "{}", "null", "[]", "garbage\u{0}\u{1}",
    ])
    func declinesEveryOtherSpelling(text: String) throws {
        let bytes = Array(text.utf8)
        #expect(CredentialRecord.decodeWrittenForm(bytes) == nil)
    }

    @Test func invalidUTF8IsDeclined() throws {
        var bytes = try Self.written(Self.base)
        let key = Array(#""secret":""#.utf8)
        let start = try #require(bytes.indices.first { bytes[$0...].starts(with: key) })
        bytes[start + key.count] = 0xFF
        #expect(CredentialRecord.decodeWrittenForm(bytes) == nil)
    }

    /// Every truncation and every one-byte change of a written record: whenever the direct reader
    /// accepts the bytes, the full decoder reads the same record from them.
    @Test func neverDisagreesWithTheDecoder() throws {
        var record = Self.base
        record.username = "A/\"\\"
        let bytes = try Self.written(record)
        var accepted = 0
        func check(_ candidate: [UInt8]) {
            guard let direct = CredentialRecord.decodeWrittenForm(candidate) else { return }
            accepted += 1
            #expect((try? JSONInput.decode(CredentialRecord.self, from: candidate)) == direct,
                    "\(String(decoding: candidate, as: UTF8.self))")
        }
        for length in 0...bytes.count {
            check(Array(bytes[..<length]))
        }
        for position in bytes.indices {
            for replacement in [UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: ","), UInt8(ascii: "0"), UInt8(ascii: "9"),
                                UInt8(ascii: "-"), UInt8(ascii: "e"), UInt8(ascii: "."), UInt8(ascii: "}"), UInt8(ascii: " "), 0x00, 0x80] {
                var changed = bytes
                changed[position] = replacement
                check(changed)
            }
            var shorter = bytes
            shorter.remove(at: position)
            check(shorter)
        }
        #expect(accepted > bytes.count)
    }

    @Test func theStoreStillReadsOtherSpellingsThroughTheDecoder() throws {
        let scratch = try TemporaryDirectory()
        let store = FileCredentialStore(directory: scratch.path)
        let path = store.path(kind: .token, registry: "r.example", identity: "a")
        // Pretty-printed, with an unknown key and an escape the direct reader leaves alone.
        let text = """
            {
              "version": 1, "kind": "token", "registry": "r.example", "serverURL": "r\\u002eexample",
              "identity": "a", "username": "AWS", "secret": "s", "issuedAt": 100, "expiresAt": 200, "extra": true
            }
            """
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        let read = try #require(try store.record(kind: .token, registry: "r.example", identity: "a"))
        #expect(read.serverURL == "r.example")
        #expect(read.expiresAt == 200)
        // A duplicate key is still refused.
        try text.replacingOccurrences(of: "\"extra\": true", with: "\"secret\": \"t\"").write(toFile: path, atomically: false, encoding: .utf8)
        #expect(try store.record(kind: .token, registry: "r.example", identity: "a") == nil)
    }
}
