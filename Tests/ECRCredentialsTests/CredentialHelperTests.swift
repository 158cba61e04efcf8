// get, store, erase and list against a scripted ECR and real files.
import ECRCredentials
import Foundation
import Testing

@Suite struct CredentialHelperTests {
    static let host = "123456789012.dkr.ecr.us-west-2.amazonaws.com"

    struct Fixture {
        let scratch: TemporaryDirectory
        let transport: MockTransport
        let clock: ManualClock
        let helper: CredentialHelper
        let messages: Messages
        let diagnostics: Diagnostics

        init(_ variables: [String: String] = ["AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"],
             replies: [MockTransport.Reply] = [], cache: TokenSettings.CacheBackend = .file, level: Diagnostics.Level = .debug) throws {
            scratch = try TemporaryDirectory()
            transport = MockTransport(replies)
            clock = ManualClock()
            messages = Messages()
            var environment = variables
            environment["HOME"] = scratch.path
            environment["AWS_EC2_METADATA_DISABLED"] = "true"
            let configuration = HelperConfiguration(tokens: TokenSettings(cacheBackend: cache, tokenDirectory: scratch.path + "/tokens"),
                                                    loginDirectory: scratch.path + "/logins")
            let messages = self.messages
            let sink = self.messages
            diagnostics = Diagnostics(level: .warning, sink: { sink.append($0) })
            helper = CredentialHelper(configuration: configuration, environment: Environment(environment), transport: transport,
                                      clock: clock, diagnostics: Diagnostics(level: level, sink: { messages.append($0) }))
        }
    }

    final class Messages: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ line: String) { lock.withLock { lines.append(line) } }
        var text: String { lock.withLock { lines.joined() } }
    }

    @Test func fetchesThenServesFromTheCacheWithoutTheNetwork() throws {
        let fixture = try Fixture(replies: [MockTransport.ecrToken("tok1", expiresAt: 1_800_000_000 + 43_200)])
        let first = try fixture.helper.get("https://\(Self.host)")
        #expect(first == HelperCredential(serverURL: "https://\(Self.host)", username: "AWS", secret: "tok1"))
        fixture.clock.advance(3600)
        let second = try fixture.helper.get("\(Self.host):443")
        #expect(second.secret == "tok1")
        #expect(second.serverURL == "\(Self.host):443")
        #expect(fixture.transport.requests.count == 1)
    }

    /// Refreshed at this machine's point, between 40% and 60% of the life (`RefreshScheduleTests`).
    @Test func refreshesAtItsRefreshPoint() throws {
        let fixture = try Fixture(replies: [MockTransport.ecrToken("tok1", expiresAt: 1_800_000_000 + 43_200),
                                            MockTransport.ecrToken("tok2", expiresAt: 1_800_000_000 + 25_921 + 43_200)])
        #expect(try fixture.helper.get(Self.host).secret == "tok1")
        fixture.clock.advance(17_279)
        #expect(try fixture.helper.get(Self.host).secret == "tok1")
        fixture.clock.advance(25_921 - 17_279)
        #expect(try fixture.helper.get(Self.host).secret == "tok2")
        #expect(fixture.transport.requests.count == 2)
    }

    @Test func anotherIdentityNeverSeesTheToken() throws {
        let fixture = try Fixture(replies: [MockTransport.ecrToken("tok1", expiresAt: 1_800_043_200)])
        _ = try fixture.helper.get(Self.host)
        let other = CredentialHelper(
            configuration: fixture.helper.configuration,
            environment: Environment(["AWS_ACCESS_KEY_ID": "AKIAOTHER", "AWS_SECRET_ACCESS_KEY": "other", "HOME": fixture.scratch.path]),
            transport: MockTransport([MockTransport.ecrToken("tok-other", expiresAt: 1_800_043_200)]), clock: fixture.clock)
        #expect(try other.get(Self.host).secret == "tok-other")
    }

    @Test func anEndpointOverrideIsAnotherCacheEntry() throws {
        let fixture = try Fixture(replies: [MockTransport.ecrToken("real", expiresAt: 1_800_043_200)])
        _ = try fixture.helper.get(Self.host)
        let redirected = CredentialHelper(
            configuration: fixture.helper.configuration,
            environment: Environment(["AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
                                      "AWS_ENDPOINT_URL_ECR": "http://127.0.0.1:9", "HOME": fixture.scratch.path]),
            transport: MockTransport([MockTransport.ecrToken("emulated", expiresAt: 1_800_043_200)]), clock: fixture.clock)
        #expect(try redirected.get(Self.host).secret == "emulated")
    }

    @Test func aTokenThatExpiredBeforeItArrivedIsRefusedWithTheClockHint() throws {
        let fixture = try Fixture(replies: [MockTransport.ecrToken("old1", expiresAt: 1_420_070_400)], level: .warning)
        let outcome = fixture.helper.run(.get, input: Array(Self.host.utf8), diagnostics: fixture.diagnostics)
        #expect(outcome == HelperOutcome(standardOutput: "credentials not found in native keychain\n", exitCode: 1))
        #expect(fixture.messages.text.contains("that expired at 2015-01-01T00:00:00Z, before this machine's time 2027-01-15T08:00:00Z: the system clock is probably wrong"))
        #expect(try fixture.helper.list() == [:])
    }

    @Test func aFailedRefreshFallsBackToAStillValidToken() throws {
        let fixture = try Fixture(replies: [MockTransport.ecrToken("tok1", expiresAt: 1_800_043_200)], level: .warning)
        _ = try fixture.helper.get(Self.host)
        fixture.clock.advance(30_000)  // past half-life, 13 200 s left
        for _ in 0..<3 { fixture.transport.enqueue(MockTransport.error(400, "ThrottlingException", "Rate exceeded")) }
        #expect(try fixture.helper.get(Self.host).secret == "tok1")
        #expect(fixture.messages.text.contains("refreshing the token failed"))
        // ...but never an expired one.
        fixture.clock.advance(13_200)
        for _ in 0..<3 { fixture.transport.enqueue(MockTransport.error(400, "ThrottlingException", "Rate exceeded")) }
        #expect(throws: HelperError.self) { try fixture.helper.get(Self.host) }
    }

    @Test func deniedRefreshDoesNotFallBack() throws {
        let fixture = try Fixture(replies: [MockTransport.ecrToken("tok1", expiresAt: 1_800_043_200),
                                            MockTransport.error(400, "AccessDeniedException", "User: arn:aws:iam::1:user/x is not authorized")])
        _ = try fixture.helper.get(Self.host)
        fixture.clock.advance(30_000)
        let error = #expect(throws: HelperError.self) { try fixture.helper.get(Self.host) }
        // Not the cached token, still valid for another 3 hours: the denial itself, named.
        #expect(error?.code == .notFound)
        #expect(error?.cause?.contains("AccessDeniedException") == true && error?.cause?.contains("not authorized") == true)
        #expect(fixture.transport.requests.count == 2)
    }

    @Test func noCredentialsIsNotFoundWithTheCauseOnStderr() throws {
        let fixture = try Fixture([:], level: .warning)
        let outcome = fixture.helper.run(.get, input: Array(Self.host.utf8), diagnostics: fixture.diagnostics)
        #expect(outcome == HelperOutcome(standardOutput: "credentials not found in native keychain\n", exitCode: 1))
        #expect(fixture.messages.text.hasPrefix("docker-credential-ecr: \(Self.host): no AWS credentials"))
        #expect(fixture.transport.requests.isEmpty)
    }

    @Test(arguments: ["docker.io", "ghcr.io", "https://index.docker.io/v1/", "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example", "not a url", "ftp://x"])
    func otherHostsAreNotFoundQuietly(input: String) throws {
        let fixture = try Fixture(level: .warning)
        let outcome = fixture.helper.run(.get, input: Array(input.utf8), diagnostics: fixture.diagnostics)
        #expect(outcome == HelperOutcome(standardOutput: "credentials not found in native keychain\n", exitCode: 1))
        #expect(fixture.messages.text.isEmpty)
        #expect(fixture.transport.requests.isEmpty)
    }

    @Test(arguments: ["", " ", "\n"])
    func emptyInputIsTheProtocolsError(input: String) throws {
        let fixture = try Fixture()
        for action in [HelperAction.get, .erase] {
            #expect(fixture.helper.run(action, input: Array(input.utf8), diagnostics: Diagnostics(level: .quiet))
                == HelperOutcome(standardOutput: "no credentials server URL\n", exitCode: 1))
        }
    }

    @Test func storeGetListEraseRoundTrip() throws {
        let fixture = try Fixture()
        try fixture.helper.store(Array(#"{"ServerURL":"https://index.docker.io/v1/","Username":"me","Secret":"p@ss"}"#.utf8))
        #expect(try fixture.helper.get("https://index.docker.io/v1/") == HelperCredential(serverURL: "https://index.docker.io/v1/", username: "me", secret: "p@ss"))
        #expect(try fixture.helper.list() == ["https://index.docker.io/v1/": "me"])
        try fixture.helper.erase("index.docker.io")
        #expect(throws: HelperError.self) { try fixture.helper.get("https://index.docker.io/v1/") }
        #expect(try fixture.helper.list() == [:])
        try fixture.helper.erase("index.docker.io")  // nothing there: still succeeds
        #expect(fixture.transport.requests.isEmpty)
    }

    @Test func aStoredECRLoginWinsUntilItExpires() throws {
        let password = Base64.encode(Array(#"{"payload":"x","expiration":1800007200}"#.utf8))
        let fixture = try Fixture(replies: [MockTransport.ecrToken("fetched", expiresAt: 1_800_100_000)])
        try fixture.helper.store(Array("{\"ServerURL\":\"\(Self.host)\",\"Username\":\"AWS\",\"Secret\":\"\(password)\"}\n".utf8))
        #expect(try fixture.helper.get("https://\(Self.host)").secret == password)
        fixture.clock.advance(7200)
        #expect(try fixture.helper.get(Self.host).secret == "fetched")
    }

    @Test(arguments: [
        ("", "store expects JSON {\"ServerURL\":...,\"Username\":...,\"Secret\":...} on stdin"),
        ("garbage", "store expects JSON {\"ServerURL\":...,\"Username\":...,\"Secret\":...} on stdin"),
        (#"{"Username":"u","Secret":"s"}"#, "no credentials server URL"),
        (#"{"ServerURL":"","Username":"u","Secret":"s"}"#, "no credentials server URL"),
        (#"{"ServerURL":"h.example","Secret":"s"}"#, "no credentials username"),
        (#"{"ServerURL":"ftp://h","Username":"u","Secret":"s"}"#, "invalid registry address \"ftp://h\": unsupported scheme ftp"),
        (#"{"ServerURL":"h.example","Username":"u"}"#, "no credentials secret (store needs a non-empty \"Secret\": the password or identity token)"),
        (#"{"ServerURL":"h.example","Username":"u","Secret":""}"#, "no credentials secret (store needs a non-empty \"Secret\": the password or identity token)"),
        (#"{"ServerURL":"h.example","Username":"u","Secret":null}"#, "no credentials secret (store needs a non-empty \"Secret\": the password or identity token)"),
        (#"{"ServerURL":"../x","Username":"u","Secret":"s"}"#, "invalid registry address \"../x\": the host \"..\" has an empty label; "
            + "a registry host is labels of letters, digits and '-' joined by single dots, or an IPv6 address in brackets"),
        (#"{"ServerURL":"https://reg_istry.example/v2/","Username":"u","Secret":"s"}"#, "invalid registry address \"https://reg_istry.example/v2/\": "
            + "the host \"reg_istry.example\" has '_'; a registry host is labels of letters, digits and '-' joined by single dots, "
            + "or an IPv6 address in brackets"),
        (#"{"ServerURL":"-x-:5000","Username":"u","Secret":"s"}"#, "invalid registry address \"-x-:5000\": the host label \"-x-\" starts with '-'; "
            + "a registry host is labels of letters, digits and '-' joined by single dots, or an IPv6 address in brackets"),
    ])
    func badStoreInputIsRefusedAndKeepsNothing(input: String, message: String) throws {
        let fixture = try Fixture()
        let outcome = fixture.helper.run(.store, input: Array(input.utf8), diagnostics: Diagnostics(level: .quiet))
        #expect(outcome == HelperOutcome(standardOutput: message + "\n", exitCode: 1))
        #expect(try fixture.helper.list() == [:])
        for directory in ["logins", "tokens"] {
            #expect(!FileManager.default.fileExists(atPath: fixture.scratch.path + "/" + directory), "\(directory)")
        }
    }

    /// What real clients store: docker's password and identity-token logins, podman's and nerdctl's.
    @Test(arguments: [
        (#"{"ServerURL":"registry.example","Username":"me","Secret":"pw"}"# + "\n", "registry.example", "me"),
        (#"{"ServerURL":"https://index.docker.io/v1/","Username":"<token>","Secret":"identity-token"}"#, "https://index.docker.io/v1/", "<token>"),
        (#"{"ServerURL":"localhost:5000","Username":"me","Secret":" "}"#, "localhost:5000", "me"),
        (#"{"ServerURL":"[::1]:5000","Username":"me","Secret":"pw"}"#, "[::1]:5000", "me"),
        (#"{"ServerURL":"https://registry-1.example:443","Username":"me","Secret":"pw"}"#, "registry-1.example", "me"),
    ])
    func whatRealClientsStoreIsKept(input: String, server: String, username: String) throws {
        let fixture = try Fixture()
        try fixture.helper.store(Array(input.utf8))
        #expect(try fixture.helper.get(server).username == username)
    }

    @Test func eraseRemovesEveryFormAndEveryIdentity() throws {
        let fixture = try Fixture(replies: [MockTransport.ecrToken("tok", expiresAt: 1_800_043_200)])
        _ = try fixture.helper.get(Self.host)
        try fixture.helper.store(Array("{\"ServerURL\":\"https://\(Self.host):443\",\"Username\":\"AWS\",\"Secret\":\"x\"}".utf8))
        #expect(try fixture.helper.list().count == 2)
        try fixture.helper.erase("http://\(Self.host)")
        #expect(try fixture.helper.list() == [:])
    }

    @Test func listDropsExpiredEntries() throws {
        let fixture = try Fixture(replies: [MockTransport.ecrToken("tok", expiresAt: 1_800_043_200)])
        _ = try fixture.helper.get(Self.host)
        #expect(try fixture.helper.list() == [Self.host: "AWS"])
        fixture.clock.advance(43_201)
        #expect(try fixture.helper.list() == [:])
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.scratch.path + "/tokens").filter { $0.hasSuffix(".json") }.isEmpty)
    }

    @Test func disabledCacheFetchesEveryTime() throws {
        let fixture = try Fixture(replies: [MockTransport.ecrToken("a", expiresAt: 1_800_043_200), MockTransport.ecrToken("b", expiresAt: 1_800_043_200)],
                                  cache: .none)
        #expect(try fixture.helper.get(Self.host).secret == "a")
        #expect(try fixture.helper.get(Self.host).secret == "b")
        #expect(!FileManager.default.fileExists(atPath: fixture.scratch.path + "/tokens"))
    }

    @Test func debugLogNeverShowsSecrets() throws {
        let fixture = try Fixture(["AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "very-secret-key", "AWS_SESSION_TOKEN": "session-token-value"],
                                  replies: [MockTransport.ecrToken("the-registry-password", expiresAt: 1_800_043_200)])
        _ = try fixture.helper.get(Self.host)
        _ = try fixture.helper.get(Self.host)
        let log = fixture.messages.text
        #expect(log.contains("cache hit"))
        for secret in ["very-secret-key", "session-token-value", "the-registry-password"] {
            #expect(!log.contains(secret))
        }
    }

    @Test func outputJSONEscapesAndKeepsTheInput() {
        let credential = HelperCredential(serverURL: "https://h/\"x\"", username: "AWS", secret: "a\\b\n")
        #expect(credential.json == #"{"ServerURL":"https://h/\"x\"","Username":"AWS","Secret":"a\\b\n"}"#)
        #expect(JSONText.object([:]) == "{}")
    }
}
