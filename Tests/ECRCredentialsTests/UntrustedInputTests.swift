// Regression tests for input from hostile ground: numbers, names, JSON, addresses, globs, files.
@testable import ECRCredentials
import Foundation
import Testing

@Suite struct UntrustedInputTests {
    // MARK: numbers from outside

    @Test(arguments: [Double.nan, .infinity, -.infinity, 1e20, -1, 253_402_300_800, .greatestFiniteMagnitude])
    func implausibleTimesAreRefused(value: Double) {
        #expect(EpochSeconds.validated(value) == nil)
        #expect(EpochSeconds.parse(String(value)) == nil)
        // Formatting never traps, whatever the value.
        _ = EpochSeconds.text(value)
        _ = Timestamp.iso8601(Timestamp(timeIntervalSince1970: value))
        _ = Timestamp.amzDate(Timestamp(timeIntervalSince1970: value))
    }

    @Test func plausibleTimesPass() {
        #expect(EpochSeconds.validated(1_700_000_000.5) == 1_700_000_000.5)
        #expect(EpochSeconds.text(1_700_000_000.9) == "1700000000")
        #expect(EpochSeconds.parse("1700000000") == 1_700_000_000)
    }

    @Test func ecrPasswordWithAHugeExpirationHasNone() {
        let password = Data(#"{"expiration":1e20,"payload":"x"}"#.utf8).base64EncodedString()
        #expect(ECRPassword.expiration(of: password) == nil)
        let good = Data(#"{"expiration":1700000000,"payload":"x"}"#.utf8).base64EncodedString()
        #expect(ECRPassword.expiration(of: good) == 1_700_000_000)
    }

    @Test(arguments: ["1e20", "1e400", "-5", "253402300800"])
    func ecrReplyWithAnImplausibleExpiryIsMalformed(expiresAt: String) {
        let token = Data("AWS:secret".utf8).base64EncodedString()
        let body = Array(#"{"authorizationData":[{"authorizationToken":"\#(token)","expiresAt":\#(expiresAt)}]}"#.utf8)
        #expect(throws: ECRClient.MalformedReply.self) { try ECRClient.decode(body, isPublic: false, service: "ECR") }
    }

    // MARK: duplicate JSON keys

    @Test(arguments: [
        #"{"a":1,"a":2}"#, #"{"a":1,"\u0061":2}"#, #"{"x":{"b":1,"b":2}}"#, #"[{"k":1,"k":1}]"#,
        #"{"Secret":"x","b":[1,2],"Secret":"y"}"#, #"{"\ud83d\ude00":1,"😀":2}"#,
    ])
    func duplicateKeysAreRefused(document: String) {
        #expect(throws: JSONInput.DuplicateKey.self) { try JSONInput.decode(AnyValue.self, from: Array(document.utf8)) }
    }

    @Test(arguments: [
        #"{"a":1,"b":2}"#, #"{"a":{"a":1},"b":{"a":2}}"#, #"[{"a":1},{"a":2}]"#, #"{"a":"a","b":["a","a"]}"#,
        #"{"a\"":1,"a":2}"#, #"{"a":"}{\"a\":1","c":1}"#,
    ])
    func distinctKeysPass(document: String) throws {
        _ = try JSONInput.decode(AnyValue.self, from: Array(document.utf8))
    }

    /// Any JSON value: decoding it reads nothing, so only the parser can refuse a document.
    struct AnyValue: Decodable {
        init(from decoder: any Decoder) {}
    }

    @Test func everyDecoderRefusesDuplicates() {
        let record = #"{"version":1,"kind":"login","registry":"r","serverURL":"r","identity":"","username":"u","secret":"a","secret":"b","issuedAt":1}"#
        #expect(throws: JSONInput.DuplicateKey.self) { try JSONInput.decode(CredentialRecord.self, from: Array(record.utf8)) }
        let process = #"{"Version":1,"AccessKeyId":"A","SecretAccessKey":"s","AccessKeyId":"B"}"#
        let processError = #expect(throws: CredentialError.self) { try ProcessCredentialProvider.decode(Array(process.utf8), source: "p") }
        #expect(processError?.message == #"p printed a JSON object with the key "AccessKeyId" twice"#)
        #expect((processError?.underlying as? JSONInput.DuplicateKey)?.key == "AccessKeyId")
        let container = #"{"AccessKeyId":"A","SecretAccessKey":"s","AccessKeyId":"B"}"#
        let containerError = #expect(throws: CredentialError.self) { try ContainerCredentialProvider.decode(Array(container.utf8), source: "c") }
        #expect(containerError?.message == #"c answered a JSON object with the key "AccessKeyId" twice"#)
        #expect((containerError?.underlying as? JSONInput.DuplicateKey)?.key == "AccessKeyId")
    }

    // MARK: allowlists

    @Test(arguments: ["127.0.0.1", "127.255.0.9", "::1", "localhost", "LOCALHOST", "169.254.170.2", "169.254.170.23",
                      "fd00:ec2::23", "fd00:ec2:0::23"])
    func plainHTTPIsAllowedToLoopbackAndAgents(host: String) {
        #expect(ContainerCredentialProvider.allowsPlainHTTP(to: host))
    }

    @Test(arguments: ["127.0.0.1.evil.example", "127.evil.example", "127.1", "0x7f.0.0.1", "localhost.evil.example",
                      "169.254.170.2.evil.example", "::ffff:127.0.0.1", "fd00:ec2::24", "10.0.0.1", "", "127.0.0.1."])
    func plainHTTPIsRefusedElsewhere(host: String) {
        #expect(!ContainerCredentialProvider.allowsPlainHTTP(to: host))
    }

    @Test(arguments: ["token", "AQAEAFtoken==", String(repeating: "x", count: 4096)])
    func headerSafeTokens(token: String) {
        #expect(InstanceMetadataCredentialProvider.isHeaderSafe(token))
    }

    @Test(arguments: ["a\r\nX-Injected: 1", "a\nb", "a b", "a\u{0}b", "", "é", String(repeating: "x", count: 4097)])
    func headerUnsafeTokens(token: String) {
        #expect(!InstanceMetadataCredentialProvider.isHeaderSafe(token))
    }

    // MARK: file names

    @Test func fileNamesNeverCollide() {
        let keys = ["reg.example.com:5000", "reg.example.com_5000", "reg.example.com%3A5000", "[::1]:5000", "-::1-:5000",
                    "a.example/x", "a.example-x"]
        let stems = keys.map(FileCredentialStore.fileStem)
        #expect(Set(stems).count == keys.count)
        #expect(stems.allSatisfy { !$0.contains("/") && !$0.contains("@") })
    }

    // MARK: glob

    @Test func globIsLinear() {
        let pattern = Substring(String(repeating: "*a", count: 12) + "*b")
        let text = Substring(String(repeating: "a", count: 63))
        let started = Date()
        #expect(!ToolConfigFile.glob(pattern, matches: text))
        #expect(Date().timeIntervalSince(started) < 1)
    }

    @Test(arguments: [("*", "", true), ("*", "abc", true), ("a*c", "abc", true), ("a*c", "ab", false), ("*.ecr", "x.ecr", true),
                      ("a*b*c", "aXbYc", true), ("a*b*c", "aXbY", false), ("abc", "abc", true), ("abc", "abd", false),
                      ("**", "x", true), ("*a*", "bab", true), ("*a", "ab", false)])
    func globMatches(pattern: String, text: String, expected: Bool) {
        #expect(ToolConfigFile.glob(Substring(pattern), matches: Substring(text)) == expected)
    }

    // MARK: server text

    @Test func serverTextLosesControlsAndEchoedRequests() {
        let body = #"{"__type":"InvalidSignatureException","message":"The request signature we calculated does not match.\n\nThe Canonical String for this request should have been\n'POST\n/\n\nx-amz-security-token:SESSIONTOKEN\n'"}"#
        let error = AWSServiceError.parse(HTTPResponse(status: 403, headers: [], body: Array(body.utf8)), service: "ECR", operation: "Get")
        #expect(error.message == "The request signature we calculated does not match.")
        #expect(!error.description.contains("SESSIONTOKEN"))
        let escape = #"{"__type":"X","message":"red \u001b[31mALERT\u001b[0m\u0007 done\u202e"}"#
        let shown = AWSServiceError.parse(HTTPResponse(status: 400, headers: [], body: Array(escape.utf8)), service: "ECR", operation: "Get")
        #expect(!shown.description.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F || $0.value == 0x202E })
        #expect(Diagnostics.printable("a\nb\u{1b}[2Jc") == "a b [2Jc")
    }

    @Test func credentialsAreRedactedFromServerMessages() {
        let error = AWSServiceError(service: "STS", operation: "X", status: 400, code: "Bad", message: "token SESSIONTOKEN123 and secret SECRETKEY99")
        #expect(error.redacting(["SESSIONTOKEN123", "SECRETKEY99"]).message == "token <redacted> and secret <redacted>")
    }

    // MARK: child processes

    @Test func childThatClosesItsPipesAndSleepsIsBounded() throws {
        let started = Date()
        let result = try ChildProcess.run(["/bin/sh", "-c", "exec >&- 2>&-; sleep 30"], environment: [:], timeout: 1)
        #expect(result.timedOut)
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func grandchildHoldingThePipeDoesNotFailARun() throws {
        let started = Date()
        let result = try ChildProcess.run(["/bin/sh", "-c", "sleep 30 & echo done"], environment: [:], timeout: 10)
        #expect(!result.timedOut)
        #expect(result.status == 0)
        #expect(String(decoding: result.output, as: UTF8.self) == "done\n")
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func deadlineKillsTheWholeGroup() throws {
        let scratch = try TemporaryDirectory()
        let marker = scratch.path + "/survived"
        let result = try ChildProcess.run(["/bin/sh", "-c", "(sleep 2; touch \(marker)) & sleep 30"], environment: [:], timeout: 0.5)
        #expect(result.timedOut)
        Thread.sleep(forTimeInterval: 2.5)
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    // MARK: files

    @Test func fifoIsRefusedWithoutBlocking() throws {
        let scratch = try TemporaryDirectory()
        let path = scratch.path + "/fifo"
        #expect(mkfifo(path, 0o600) == 0)
        #expect(throws: PrivateFile.Refusal.self) { try PrivateFile.read(path) }
        #expect(throws: PrivateFile.Refusal.self) { try PrivateFile.read(path, policy: .ownRecord) }
        #expect(throws: PrivateFile.Refusal.self) { try PrivateFile.checkRegularFile(path) }
        #expect(throws: PrivateFile.Refusal.self) { try PrivateFile.read(scratch.path) }
    }

    @Test func ownRecordsAreNotReadThroughSymbolicLinks() throws {
        let scratch = try TemporaryDirectory()
        try "x".write(toFile: scratch.path + "/target", atomically: false, encoding: .utf8)
        #expect(symlink(scratch.path + "/target", scratch.path + "/link") == 0)
        #expect(throws: PrivateFile.Refusal.self) { try PrivateFile.read(scratch.path + "/link", policy: .ownRecord) }
        #expect(try PrivateFile.read(scratch.path + "/link") == Array("x".utf8))
    }

    @Test func parentsAreCreatedPrivate() throws {
        let scratch = try TemporaryDirectory()
        try PrivateFile.makeDirectory(scratch.path + "/cache/tool/locks")
        #expect(try scratch.mode(of: "cache") == 0o700)
        #expect(try scratch.mode(of: "cache/tool") == 0o700)
        #expect(try scratch.mode(of: "cache/tool/locks") == 0o700)
    }
}
