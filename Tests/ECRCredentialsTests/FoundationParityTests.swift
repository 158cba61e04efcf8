// The library's own base64, JSON decoder, record writer and time formats against Foundation's, on
// the same inputs: they must agree wherever the library relies on Foundation's behaviour.
@testable import ECRCredentials
import FoundationEssentials
import Testing

@Suite struct FoundationParityTests {
    // MARK: base64

    /// A generator with a fixed seed, so a failure repeats.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func base64EncodesAsFoundation() {
        var random = SeededGenerator(state: 1)
        for length in 0..<64 {
            for _ in 0..<40 {
                let bytes = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &random) }
                #expect(ECRCredentials.Base64.encode(bytes) == Data(bytes).base64EncodedString(), "\(bytes)")
            }
        }
        let text = Array("AWS:pässwörd ✓".utf8)
        #expect(ECRCredentials.Base64.encode(text) == Data(text).base64EncodedString())
    }

    @Test func base64DecodesAsFoundation() {
        var random = SeededGenerator(state: 2)
        var inputs: [[UInt8]] = ["", "=", "==", "===", "====", "A", "AA", "AAA", "AAAA", "AA==", "AAA=", "A===", "AB=C",
                                 "QQ==", "QR==", "QUI=", "QUJ=", "QUJD", "QQ==QQ==", "QQ", "QUI", " QUJD", "QUJD ", "QU JD",
                                 "QUJD\n", "QUJD\r\nQUJD", "QUJ-", "QUJ_", "QUJ\u{00E9}", "====QUJD", "Q=JD", "QUJD=", "QUJD=="]
            .map { Array($0.utf8) }
        // Valid encodings of random bytes, and each with one character changed, dropped or added.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ .\n\u{0}".utf8) + [0x80, 0xC3, 0xFF]
        for _ in 0..<1500 {
            let bytes = (0..<Int.random(in: 0..<20, using: &random)).map { _ in UInt8.random(in: .min ... .max, using: &random) }
            let encoded = Array(Data(bytes).base64EncodedString().utf8)
            inputs.append(encoded)
            guard !encoded.isEmpty else { continue }
            var changed = encoded
            changed[Int.random(in: 0..<changed.count, using: &random)] = alphabet.randomElement(using: &random)!
            inputs.append(changed)
            var shorter = encoded
            shorter.remove(at: Int.random(in: 0..<shorter.count, using: &random))
            inputs.append(shorter)
            var longer = encoded
            longer.insert(alphabet.randomElement(using: &random)!, at: Int.random(in: 0...longer.count, using: &random))
            inputs.append(longer)
        }
        // Short random texts over the alphabet and `=`.
        for _ in 0..<3000 {
            inputs.append((0..<Int.random(in: 0...8, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
        }
        // Where this Foundation accepts more (a length that is not a multiple of four, `=` inside
        // the text: "QUJD=" and "AB=C" decode), the library refuses: it never accepts what
        // Foundation refuses, and what it accepts decodes to Foundation's bytes.
        var valid = 0
        var laxer = 0
        for input in inputs {
            let theirs = Data(base64Encoded: Data(input)).map { Array($0) }
            let ours = ECRCredentials.Base64.decode(input)
            let shown = String(decoding: input, as: UTF8.self)
            if let ours {
                #expect(ours == theirs, "\(shown)")
                valid += 1
            } else if let theirs {
                let hasInnerPadding = input.dropLast(2).contains(UInt8(ascii: "=")) || (input.last != UInt8(ascii: "=") && input.contains(UInt8(ascii: "=")))
                #expect(input.count % 4 != 0 || hasInnerPadding, "\(shown) decodes to \(theirs) with Foundation")
                laxer += 1
            }
        }
        #expect(valid > 1500 && laxer > 0)
    }

    // MARK: the JSON decoder

    /// Where two decoders' answers differ; nil when they agree.
    static func difference<T: Decodable & Equatable>(_ type: T.Type, _ bytes: [UInt8]) -> String? {
        let ours = Result { try JSONInput.decode(T.self, from: bytes) }
        let theirs = Result { try JSONDecoder().decode(T.self, from: Data(bytes)) }
        switch (ours, theirs) {
        case let (.success(a), .success(b)):
            return a == b ? nil : "decoded \(a), JSONDecoder \(b)"
        case let (.failure(a), .failure(b)):
            let (ourKind, ourPath) = describe(a)
            let (theirKind, theirPath) = describe(b)
            // Text that is not JSON is refused as a whole; JSONDecoder reads numbers only when
            // asked for one, so for a malformed number it may throw a type error instead.
            if isParseError(a) { return nil }
            // JSONDecoder leaves the path out of its number errors; the library gives it.
            if ourKind == "dataCorrupted", theirKind == ourKind, ourPath.starts(with: theirPath) { return nil }
            return ourKind == theirKind && ourPath == theirPath ? nil : "threw \(ourKind) at \(ourPath), JSONDecoder \(theirKind) at \(theirPath)"
        case let (.success(a), .failure(b)):
            return "decoded \(a), JSONDecoder threw \(b)"
        case let (.failure(a), .success(b)):
            return "threw \(a), JSONDecoder decoded \(b)"
        }
    }

    /// Whether `error` says the text is not JSON (rather than not the type asked for).
    static func isParseError(_ error: any Error) -> Bool {
        guard case DecodingError.dataCorrupted(let context)? = error as? DecodingError else { return false }
        return context.underlyingError is JSONDocument.ParseError
    }

    /// The kind of a decoding error and its coding path.
    static func describe(_ error: any Error) -> (kind: String, path: [String]) {
        guard let error = error as? DecodingError else { return ("\(type(of: error))", []) }
        switch error {
        case .typeMismatch(_, let context): return ("typeMismatch", context.codingPath.map(\.stringValue))
        case .valueNotFound(_, let context): return ("valueNotFound", context.codingPath.map(\.stringValue))
        case .keyNotFound(let key, let context): return ("keyNotFound", (context.codingPath + [key]).map(\.stringValue))
        case .dataCorrupted(let context): return ("dataCorrupted", context.codingPath.map(\.stringValue))
        @unknown default: return ("unknown", [])
        }
    }

    /// Expects the two decoders to agree on `text` decoded as `type`.
    static func expectAgreement<T: Decodable & Equatable>(_ type: T.Type, _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        if let difference = difference(type, bytes) {
            Issue.record("\(T.self) from \(String(decoding: bytes, as: UTF8.self)): \(difference)", sourceLocation: sourceLocation)
        }
    }

    // The shapes of the library's wire types (several are private to their files).
    struct AuthorizationData: Decodable, Equatable { var authorizationToken: String; var expiresAt: Double }
    struct PrivateReply: Decodable, Equatable { var authorizationData: [AuthorizationData] }
    struct PublicReply: Decodable, Equatable { var authorizationData: AuthorizationData }
    struct KubeletWire: Decodable, Equatable {
        var kind: String?
        var apiVersion: String?
        var image: String?
        var serviceAccountToken: String?
        var serviceAccountAnnotations: [String: String]?
    }
    struct HelperRequest: Decodable, Equatable { var ServerURL: String?; var Username: String?; var Secret: String? }
    struct Credentials: Decodable, Equatable {
        var Version: Int?
        var AccessKeyId: String?
        var SecretAccessKey: String?
        var Token: String?
        var Expiration: String?
    }
    struct RoleReply: Decodable, Equatable {
        struct RoleCredentials: Decodable, Equatable {
            var accessKeyId: String
            var secretAccessKey: String
            var sessionToken: String?
            var expiration: Double
        }
        var roleCredentials: RoleCredentials
    }
    struct Manifest: Decodable, Equatable {
        struct Descriptor: Decodable, Equatable {
            struct PlatformField: Decodable, Equatable { var os: String?; var architecture: String?; var variant: String? }
            var digest: String?
            var platform: PlatformField?
        }
        var manifests: [Descriptor]?
        var config: Descriptor?
    }
    struct ServiceError: Decodable, Equatable {
        var type: String?
        var message: String?
        enum CodingKeys: String, CodingKey { case type = "__type", message = "Message" }
    }
    struct Numbers: Decodable, Equatable {
        var int: Int?
        var int8: Int8?
        var int64: Int64?
        var uint8: UInt8?
        var uint64: UInt64?
        var double: Double?
        var float: Float?
        var bool: Bool?
        var nested: [[Int]]?
        var table: [String: [String: Int]]?
    }

    /// Every value of `document` replaced, in turn, by each of `replacements`, and every member
    /// of its objects left out in turn.
    static func mutations(of document: JSONDocument) -> [JSONDocument] {
        let replacements: [JSONDocument] = [.null, .bool(true), .string("x"), .number("1"), .number("-1.5"), .number("1e400"),
                                            .object([]), .array([]), .array([.null])]
        var results = replacements
        switch document {
        case .object(let members):
            for (position, member) in members.enumerated() {
                var without = members
                without.remove(at: position)
                results.append(.object(without))
                for mutated in mutations(of: member.value) {
                    var changed = members
                    changed[position].value = mutated
                    results.append(.object(changed))
                }
            }
        case .array(let elements):
            for (position, element) in elements.enumerated() {
                for mutated in mutations(of: element) {
                    var changed = elements
                    changed[position] = mutated
                    results.append(.array(changed))
                }
            }
        default:
            break
        }
        return results
    }

    /// A valid document, every mutation of it, and its text cut short at every byte and followed by garbage.
    static func corpus(_ valid: String) throws -> [[UInt8]] {
        let bytes = Array(valid.utf8)
        var corpus = [bytes]
        corpus += mutations(of: try JSONDocument(parsing: bytes)).map { Array($0.text.utf8) }
        corpus += (0..<bytes.count).map { Array(bytes[..<$0]) }
        corpus += [bytes + Array(" x".utf8), bytes + [0x00], bytes + Array("}".utf8), Array("\u{FEFF}".utf8) + bytes,
                   Array(" \t\r\n".utf8) + bytes + Array("\n ".utf8), Array("\u{00A0}".utf8) + bytes]
        return corpus
    }

    static let token = "QVdTOmV5SndZWGxzYjJGa0lqb2lZbUZ6WlRZMEluMD0="

    @Test func wireTypesDecodeAsWithJSONDecoder() throws {
        var checked = 0
        func check<T: Decodable & Equatable>(_ type: T.Type, _ valid: String) throws {
            for bytes in try Self.corpus(valid) {
                Self.expectAgreement(type, bytes)
                checked += 1
            }
        }
        try check(PrivateReply.self, #"{"authorizationData":[{"authorizationToken":"\#(Self.token)","expiresAt":1.8e9,"proxyEndpoint":"https:\/\/x"}]}"#)
        try check(PublicReply.self, #"{"authorizationData":{"authorizationToken":"\#(Self.token)","expiresAt":1800000000.5}}"#)
        try check(KubeletWire.self, #"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"a/b:c","serviceAccountToken":"e.y.j","serviceAccountAnnotations":{"eks.amazonaws.com/role-arn":"arn:aws:iam::1:role/r","x":"y"}}"#)
        try check(HelperRequest.self, #"{"ServerURL":"https://1.dkr.ecr.us-east-1.amazonaws.com","Username":"AWS","Secret":"p\u00e4ss\n"}"#)
        try check(Credentials.self, #"{"Version":1,"AccessKeyId":"AKIA","SecretAccessKey":"s","Token":"t","Expiration":"2027-01-15T12:00:00Z"}"#)
        try check(RoleReply.self, #"{"roleCredentials":{"accessKeyId":"A","secretAccessKey":"s","sessionToken":"t","expiration":1800000000000}}"#)
        try check(Manifest.self, #"{"manifests":[{"digest":"sha256:1","platform":{"os":"linux","architecture":"amd64"}},{"digest":"sha256:2"}],"config":{"digest":"d"}}"#)
        try check(ServiceError.self, #"{"__type":"com.amazon#AccessDenied","Message":"no"}"#)
        try check(CredentialRecord.self, #"{"expiresAt":1795494424.692,"identity":"a","issuedAt":1795451224.6770496,"kind":"token","registry":"r","secret":"s\/","serverURL":"u","username":"AWS","version":1}"#)
        try check(Numbers.self, #"{"int":1,"int8":-8,"int64":64,"uint8":255,"uint64":1,"double":0.5,"float":1.5,"bool":false,"nested":[[1,2],[]],"table":{"a":{"b":1}}}"#)
        #expect(checked > 2000)
    }

    static let numbers = ["0", "-0", "1", "-1", "1.0", "-1.0", "1.5", "1e3", "1E3", "1e+3", "1e-3", "10e-1", "0.0", "0e10", "-0.0",
                          "127", "128", "-128", "-129", "255", "256", "1e2", "2.55e2", "1e19", "1e20", "12345678901234567890",
                          "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
                          "18446744073709551615", "18446744073709551616", "9007199254740993", "4503599627370497.0",
                          "1e308", "1.7976931348623157e308", "1.8e308", "1e400", "-1e400", "1e-320", "4.9e-324", "1e-400",
                          "3.4028235e38", "3.5e38", "1e-46", "1e-50", "0.1", "123.456e1", "100000000000000000000000.0e-5",
                          "01", "-01", "1.", ".5", "+1", "1e", "1e+", "-", "--1", "0x10", "1_000", "NaN", "Infinity", "-Infinity",
                          "\"1\"", "true", "null", "[1]", "{}"]

    @Test(arguments: numbers)
    func numbersDecodeAsWithJSONDecoder(number: String) {
        let bytes = Array(number.utf8)
        Self.expectAgreement(Int.self, bytes)
        Self.expectAgreement(Int8.self, bytes)
        Self.expectAgreement(Int16.self, bytes)
        Self.expectAgreement(Int32.self, bytes)
        Self.expectAgreement(Int64.self, bytes)
        Self.expectAgreement(UInt.self, bytes)
        Self.expectAgreement(UInt8.self, bytes)
        Self.expectAgreement(UInt64.self, bytes)
        Self.expectAgreement(Double.self, bytes)
        Self.expectAgreement(Float.self, bytes)
        // JSONDecoder throws typeMismatch for a top-level null asked for as Bool (valueNotFound
        // for every other type, and for Bool anywhere else); the library valueNotFound.
        if number != "null" { Self.expectAgreement(Bool.self, bytes) }
        Self.expectAgreement(String.self, bytes)
        Self.expectAgreement(Int?.self, bytes)
        Self.expectAgreement([Int].self, Array("[\(number)]".utf8))
        Self.expectAgreement(Numbers.self, Array("{\"double\":\(number)}".utf8))
        Self.expectAgreement(Numbers.self, Array("{\"int64\":\(number)}".utf8))
    }

    static let strings: [[UInt8]] = [
        #""plain""#, #""""#, #""\"\\\/\b\f\n\r\t""#, #""\u0000\u001f\u007f\u0080\u00e9\u20ac\uFFFF""#, #""\ud83d\ude00""#,
        #""\uD83D\uDE00""#, #""a\ud83d""#, #""\ud83d""#, #""\ude00""#, #""\ud83d\u0041""#, #""\ude00\ud83d""#, #""\ud83d\ud83d""#,
        #""\ud83dx""#, #""\u12""#, #""\u12g4""#, #""\x41""#, #""\'""#, #""\ ""#, #""a"#, #""\"#, "\"tab\there\"", "\"nl\nhere\"",
        "\"\u{7F}\"", "\"é😀\"", "\"\u{2028}\"", #""\u0041\u0042""#, #" "x" "#, #""x" "y""#,
    ].map { Array($0.utf8) } + [
        [0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22],
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], [0x22, 0xE2, 0x82, 0x22], [0x22, 0x00, 0x22], [0xEF, 0xBB, 0xBF, 0x22, 0x61, 0x22],
        [0xEF, 0xBB, 0x22, 0x61, 0x22], [0x22, 0x61, 0x22, 0xFF],
    ]

    @Test(arguments: strings)
    func stringsDecodeAsWithJSONDecoder(bytes: [UInt8]) {
        Self.expectAgreement(String.self, bytes)
        Self.expectAgreement([String].self, [UInt8(ascii: "[")] + bytes + [UInt8(ascii: "]")])
        Self.expectAgreement(HelperRequest.self, Array(#"{"Secret":"#.utf8) + bytes + [UInt8(ascii: "}")])
        Self.expectAgreement([String: String].self, Array(#"{"k":"#.utf8) + bytes + [UInt8(ascii: "}")])
    }

    @Test(arguments: [
        "", " ", "{", "}", "[", "]", "{}", "[]", "{]", "[}", "{,}", "[,]", "[1,,]", "{\"a\":1,,}", "{\"a\" 1}", "{a:1}", "{'a':1}",
        "{\"a\":1 \"b\":2}", "[1 2]", "nul", "tru", "falsey", "null", "true", "{} {}", "{}x", "{}\u{0}", "/* c */{}", "{}//",
        "{\"a\":[{\"b\":[{}]}]}", "{\"\":1}", "{\"a\":{}}\n", "\u{FEFF}{}", "\u{FEFF}\u{FEFF}{}", "\u{0B}{}", "\u{0C}{}",
    ])
    func documentsDecodeAsWithJSONDecoder(text: String) {
        Self.expectAgreement(Numbers.self, Array(text.utf8))
        Self.expectAgreement(HelperRequest?.self, Array(text.utf8))
        Self.expectAgreement([String: Int].self, Array(text.utf8))
    }

    /// JSONDecoder takes a comma before `]` or `}`, and malformed numbers where it reads no
    /// number; the library, like Go and Python, refuses text that is not JSON.
    @Test(arguments: ["[1,]", "{\"a\":1,}", "{\"Secret\":\"x\",}", "{\"Secret\":\"x\",\"n\":01}", "{\"Secret\":\"x\",\"n\":1.}"])
    func textThatIsNotJSONIsRefusedWhereJSONDecoderIsLax(text: String) throws {
        let bytes = Array(text.utf8)
        let error = try #require(throws: DecodingError.self) { try JSONInput.decode(HelperRequest?.self, from: bytes) }
        #expect(Self.isParseError(error))
        // JSONDecoder parsed it: it decodes, or finds a value of another type.
        if case .failure(let theirs) = Result(catching: { try JSONDecoder().decode(HelperRequest?.self, from: Data(bytes)) }) {
            #expect(Self.describe(theirs).kind != "dataCorrupted", "\(theirs)")
        }
    }

    @Test func typeErrorsCarryTheCodingPath() throws {
        let bytes = Array(#"{"manifests":[{"digest":"a"},{"platform":{"os":7}}]}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONInput.decode(Manifest.self, from: bytes) }
        let (kind, path) = Self.describe(Result { try JSONInput.decode(Manifest.self, from: bytes) }.error!)
        #expect(kind == "typeMismatch")
        #expect(path == ["manifests", "Index 1", "platform", "os"])
        Self.expectAgreement(Manifest.self, bytes)
    }

    /// Nesting deeper than the parser's limit is refused with a readable error, never a stack overflow.
    @Test(arguments: [300, 100_000])
    func deepNestingIsRefused(depth: Int) {
        for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
            let text = String(repeating: open, count: depth) + "1" + String(repeating: close, count: depth)
            let wrapped = Array(("{\"Secret\":\"s\",\"x\":" + text + "}").utf8)
            do {
                _ = try JSONInput.decode(HelperRequest.self, from: wrapped)
                Issue.record("a document nested \(depth) deep was read")
            } catch let DecodingError.dataCorrupted(context) {
                #expect("\(context.underlyingError!)".contains("nested more than 256 levels deep"))
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    /// Within the limit, deeply nested values decode as with JSONDecoder.
    @Test func nestingWithinTheLimitDecodes() {
        let text = String(repeating: "[", count: 200) + "1" + String(repeating: "]", count: 200)
        Self.expectAgreement(Numbers.self, Array(("{\"int\":1,\"x\":" + text + "}").utf8))
    }

    @Test func duplicateKeysAreRefusedWhereJSONDecoderTakesOne() throws {
        for text in [#"{"Secret":"a","Secret":"b"}"#, #"{"x":[{"a":1,"\u0061":2}],"Secret":"a"}"#] {
            #expect(throws: JSONInput.DuplicateKey.self) { try JSONInput.decode(HelperRequest.self, from: Array(text.utf8)) }
            _ = try JSONDecoder().decode(HelperRequest.self, from: Data(text.utf8))
        }
        // Objects of many keys are checked too (with a set once they grow).
        let many = "{" + (0..<100).map { "\"k\($0)\":1" }.joined(separator: ",") + ",\"k42\":2}"
        #expect(throws: JSONInput.DuplicateKey.self) { try JSONInput.decode([String: Int].self, from: Array(many.utf8)) }
        let distinct = "{" + (0..<100).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}"
        Self.expectAgreement([String: Int].self, Array(distinct.utf8))
    }

    // MARK: the record writer

    @Test func recordsAreWrittenAsJSONEncoderWroteThem() throws {
        var random = SeededGenerator(state: 3)
        let pieces: [String] = ["/", "\\", "\"", "\u{0}", "\u{1}", "\u{8}", "\u{9}", "\u{A}", "\u{B}", "\u{C}", "\u{D}", "\u{1F}",
                                "\u{7F}", "\u{80}", "é", "\u{2028}", "\u{2029}", "\u{FEFF}", "😀", "https://", "a", " ", "<", "&", "'"]
        func hostile() -> String {
            (0..<Int.random(in: 0...12, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
        }
        let times: [Double] = [0, -0.0, 1, -1.5, 0.1, 1e-7, 1e-5, 1.5e-300, 1_795_451_224.6770496, 1_795_494_424.692, 253_402_300_799,
                               1e15, 1e16, 1.2345e16, 9_007_199_254_740_993, 1e300, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for index in 0..<2000 {
            var record = CredentialRecord(kind: index % 3 == 0 ? .login : .token, registry: hostile(), serverURL: hostile(),
                                          identity: hostile(), username: hostile(), secret: hostile(),
                                          issuedAt: index < times.count ? times[index] : Double.random(in: 0...2e9, using: &random),
                                          expiresAt: index % 4 == 0 ? nil : times.randomElement(using: &random)!)
            if index % 5 == 0 { record.version = Int.random(in: -1000...1000, using: &random) }
            let expected = Array(try encoder.encode(record)) + [0x0A]
            #expect(try record.writtenForm() == expected, "\(record)")
        }
    }

    @Test func nonFiniteTimesAreRefusedAsJSONEncoderRefusedThem() {
        for value in [Double.nan, .infinity, -.infinity] {
            let record = CredentialRecord(kind: .token, registry: "r", serverURL: "r", identity: "i", username: "AWS", secret: "s",
                                          issuedAt: 1, expiresAt: value)
            #expect(throws: EncodingError.self) { try record.writtenForm() }
            #expect(throws: EncodingError.self) { try JSONEncoder().encode(record) }
        }
    }

    // MARK: time

    @Test func timestampsFormatAndParseAsFoundation() throws {
        var random = SeededGenerator(state: 4)
        for _ in 0..<3000 {
            let seconds = Double(Int.random(in: 0...253_402_300_799, using: &random))
            let theirs = Date(timeIntervalSince1970: seconds).formatted(.iso8601)
            let ours = Timestamp.iso8601(Timestamp(timeIntervalSince1970: seconds))
            #expect(ours == theirs)
            #expect(Timestamp.amzDate(Timestamp(timeIntervalSince1970: seconds)) == theirs.filter { $0 != "-" && $0 != ":" })
            #expect(Timestamp.parseISO8601(theirs)?.timeIntervalSince1970 == (try Date(theirs, strategy: .iso8601)).timeIntervalSince1970)
        }
    }

    @Test func timestampBehavesAsDate() {
        let a = Timestamp(timeIntervalSince1970: 1_800_000_000.25)
        let b = a.addingTimeInterval(-0.5)
        #expect(b < a && a > b && a == Timestamp(timeIntervalSince1970: 1_800_000_000.25))
        #expect(a.timeIntervalSince(b) == 0.5)
        #expect(b.timeIntervalSince(a) == Date(timeIntervalSince1970: b.timeIntervalSince1970).timeIntervalSince(Date(timeIntervalSince1970: a.timeIntervalSince1970)))
        #expect(Set([a, b, a]).count == 2)
        #expect("\(Timestamp(timeIntervalSince1970: 0))" == "1970-01-01T00:00:00Z")
    }
}

extension Result {
    /// The error of a failure.
    var error: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
