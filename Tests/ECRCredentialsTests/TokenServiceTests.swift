// The token service: sources, expiry, single flight, and fallback decided on error values.
import ECRCredentials
import Foundation
import Testing

@Suite struct TokenServiceTests {
    static let registry = ECRRegistry(host: "123456789012.dkr.ecr.us-west-2.amazonaws.com")!
    static let keys = ["AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"]

    static let roleConfig = """
    [profile role]
    role_arn = arn:aws:iam::123456789012:role/pull
    source_profile = base
    region = us-west-2
    """
    static let baseKeys = "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = base-secret\n"

    static let stsReply = """
    <AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>
    <AccessKeyId>ASIAROLE</AccessKeyId><SecretAccessKey>role-secret</SecretAccessKey><SessionToken>role-token</SessionToken>
    <Expiration>2027-01-15T12:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>
    """

    static func stsError(_ status: Int, _ code: String) -> MockTransport.Reply {
        .response(HTTPResponse(status: status, body: Array(
            "<ErrorResponse><Error><Type>Sender</Type><Code>\(code)</Code><Message>\(code) happened</Message></Error></ErrorResponse>".utf8)))
    }

    struct Fixture {
        let scratch: TemporaryDirectory
        let transport: MockTransport
        let clock = ManualClock()
        let store = MemoryCredentialStore()
        let messages = CredentialHelperTests.Messages()
        let service: TokenService

        init(_ variables: [String: String] = TokenServiceTests.keys, config: String = "", credentials: String = "",
             replies: [MockTransport.Reply] = [], cached: Bool = true) throws {
            scratch = try TemporaryDirectory()
            transport = MockTransport(replies)
            var environment = variables
            environment["HOME"] = scratch.path
            environment["AWS_EC2_METADATA_DISABLED"] = environment["AWS_EC2_METADATA_DISABLED"] ?? "true"
            let loader = ConfigurationLoader {
                AWSConfiguration(configFile: try AWSConfigFile(path: "/home/u/.aws/config", text: config),
                                 credentialsFile: try AWSConfigFile(path: "/home/u/.aws/credentials", text: credentials),
                                 configPath: "/home/u/.aws/config", credentialsPath: "/home/u/.aws/credentials")
            }
            let messages = self.messages
            // Refreshed at half the life: `FleetScaleTests` cover the spread point.
            var settings = TokenSettings(cacheBackend: .file, tokenDirectory: scratch.path + "/tokens")
            settings.refreshWindow = 0.5...0.5
            service = TokenService(settings: settings,
                                   cache: cached ? TokenCache(store: store) : .disabled, environment: Environment(environment),
                                   transport: transport, clock: clock,
                                   diagnostics: Diagnostics(level: .warning, sink: { messages.append($0) }),
                                   awsConfiguration: loader, random: FixedRandom(0.1))
        }
    }

    @Test func reportsWhereEachTokenCameFromWithItsExpiry() throws {
        let fixture = try Fixture(replies: [MockTransport.ecrToken("tok1", expiresAt: 1_800_043_200)])
        let first = try fixture.service.token(for: Self.registry)
        #expect(first == IssuedToken(registry: Self.registry.host, username: "AWS", password: "tok1", issuedAt: 1_800_000_000,
                                     expiresAt: 1_800_043_200, source: .fetched))
        fixture.clock.advance(3600)
        let second = try fixture.service.token(for: Self.registry)
        #expect(second.source == .cache)
        #expect(second.remainingLifetime(at: 1_800_003_600) == 39_600)
        #expect(fixture.transport.requests.count == 1)
    }

    @Test func withoutACacheEveryRequestFetches() throws {
        let fixture = try Fixture(replies: [MockTransport.ecrToken("a", expiresAt: 1_800_043_200),
                                            MockTransport.ecrToken("b", expiresAt: 1_800_043_200)], cached: false)
        #expect(try fixture.service.token(for: Self.registry).password == "a")
        #expect(try fixture.service.token(for: Self.registry).password == "b")
        #expect(fixture.store.saves == 0)
    }

    /// The defect this service was built to fix: STS throttling one layer below ECR.
    @Test func stsThrottlingWhileRefreshingARoleServesTheCachedToken() throws {
        let fixture = try Fixture(["AWS_PROFILE": "role"], config: Self.roleConfig, credentials: Self.baseKeys,
                                  replies: [.response(HTTPResponse(status: 200, body: Array(Self.stsReply.utf8))),
                                            MockTransport.ecrToken("tok1", expiresAt: 1_800_043_200)])
        #expect(try fixture.service.token(for: Self.registry).source == .fetched)
        fixture.clock.advance(30_000)  // past half-life, 13 200 s left
        for _ in 0..<3 { fixture.transport.enqueue(Self.stsError(400, "Throttling")) }
        let token = try fixture.service.token(for: Self.registry)
        #expect(token.source == .staleFallback)
        #expect(token.password == "tok1")
        let warning = fixture.messages.text
        #expect(warning.hasPrefix("docker-credential-ecr: \(Self.registry.host): refreshing the token failed (assuming role arn:aws:iam::123456789012:role/pull"))
        #expect(warning.contains("Throttling"))
        #expect(warning.split(separator: "\n").count == 1)
    }

    @Test(arguments: [
        ("STS 503", [stsError(503, "ServiceUnavailable")]),
        ("STS unreachable", [MockTransport.Reply.failure(HTTPTransportError(.connectionFailed, url: "https://sts", detail: "Connection refused"))]),
        ("STS timing out", [MockTransport.Reply.failure(HTTPTransportError(.timedOut, url: "https://sts", detail: "timed out"))]),
    ])
    func passingFailuresOfTheRoleFallBack(name: String, failure: [MockTransport.Reply]) throws {
        let fixture = try Fixture(["AWS_PROFILE": "role"], config: Self.roleConfig, credentials: Self.baseKeys,
                                  replies: [.response(HTTPResponse(status: 200, body: Array(Self.stsReply.utf8))),
                                            MockTransport.ecrToken("tok1", expiresAt: 1_800_043_200)])
        _ = try fixture.service.token(for: Self.registry)
        fixture.clock.advance(30_000)
        for _ in 0..<3 { failure.forEach(fixture.transport.enqueue) }
        #expect(try fixture.service.token(for: Self.registry).source == .staleFallback)
    }

    @Test(arguments: ["AccessDenied", "InvalidClientTokenId", "ExpiredToken"])
    func finalFailuresOfTheRoleAreNeverPaperedOver(code: String) throws {
        let fixture = try Fixture(["AWS_PROFILE": "role"], config: Self.roleConfig, credentials: Self.baseKeys,
                                  replies: [.response(HTTPResponse(status: 200, body: Array(Self.stsReply.utf8))),
                                            MockTransport.ecrToken("tok1", expiresAt: 1_800_043_200),
                                            Self.stsError(403, code)])
        _ = try fixture.service.token(for: Self.registry)
        fixture.clock.advance(30_000)
        let error = try #require(throws: CredentialError.self) { try fixture.service.token(for: Self.registry) }
        #expect(!error.isTransient)
        #expect((error.underlying as? AWSServiceError)?.code == code)
    }

    @Test func anExpiredTokenIsNeverServedEvenWhenTheFailureIsPassing() throws {
        let fixture = try Fixture(replies: [MockTransport.ecrToken("tok1", expiresAt: 1_800_043_200)])
        _ = try fixture.service.token(for: Self.registry)
        fixture.clock.advance(43_200 - 299)  // inside the 300 s margin
        for _ in 0..<20 { fixture.transport.enqueue(MockTransport.error(400, "ThrottlingException", "Rate exceeded")) }
        let error = try #require(throws: AWSServiceError.self) { try fixture.service.token(for: Self.registry) }
        #expect(error.code == "ThrottlingException")
        // Nothing to fall back on: it kept trying for the budget (10 s), not three quick tries.
        #expect(fixture.transport.requests.count > 1 + 3)
        #expect(fixture.clock.now().timeIntervalSince1970 <= 1_800_043_200 - 299 + 10)
    }

    @Test func instanceMetadataTimingOutServesTheCachedToken() throws {
        let variables = ["AWS_EC2_METADATA_DISABLED": "false", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1"]
        let credentials = #"{"AccessKeyId":"ASIAIMDS","SecretAccessKey":"s","Token":"t","Expiration":"2027-01-01T00:00:00Z"}"#
        let fixture = try Fixture(variables, replies: [
            .response(HTTPResponse(status: 200, body: Array("imds-token".utf8))),
            .response(HTTPResponse(status: 200, body: Array("node-role\n".utf8))),
            .response(HTTPResponse(status: 200, body: Array(credentials.utf8))),
            MockTransport.ecrToken("tok1", expiresAt: 1_800_043_200),
        ])
        _ = try fixture.service.token(for: Self.registry)
        fixture.clock.advance(30_000)
        // The token request times out (treated as the hop limit), then IMDSv1 times out too.
        fixture.transport.enqueue(.failure(HTTPTransportError(.timedOut, url: "http://127.0.0.1:1/latest/api/token", detail: "timed out")))
        fixture.transport.enqueue(.failure(HTTPTransportError(.timedOut, url: "http://127.0.0.1:1/latest/meta-data/", detail: "timed out")))
        #expect(try fixture.service.token(for: Self.registry).source == .staleFallback)
    }

    @Test func anUnreadableCacheIsReportedAndBypassed() throws {
        let fixture = try Fixture(replies: [MockTransport.ecrToken("tok1", expiresAt: 1_800_043_200)])
        fixture.store.failing = true
        #expect(try fixture.service.token(for: Self.registry).source == .fetched)
        #expect(fixture.messages.text.contains("cannot read the token cache: the store is unreadable"))
        #expect(fixture.messages.text.contains("could not cache the token: the store is unreadable"))
    }

    @Test func anotherIdentityNeverSeesTheToken() throws {
        let fixture = try Fixture(replies: [MockTransport.ecrToken("mine", expiresAt: 1_800_043_200),
                                            MockTransport.ecrToken("theirs", expiresAt: 1_800_043_200)])
        _ = try fixture.service.token(for: Self.registry)
        let other = StaticCredentialProvider(name: "other keys", credentials: AWSCredentials(accessKeyID: "AKIAOTHER", secretAccessKey: "o"))
        let token = try fixture.service.token(for: Self.registry, identity: .provider(other, profile: nil))
        #expect(token.password == "theirs")
        #expect(token.source == .fetched)
        #expect(fixture.store.records.count == 2)
    }

    @Test func aSavedTokenRemovesTheSupersededCopies() throws {
        let scratch = try TemporaryDirectory()
        let keyring = MemoryCredentialStore(name: "keyring")
        let files = MemoryCredentialStore(name: "file")
        try files.save(CredentialRecord(kind: .token, registry: Self.registry.host, serverURL: Self.registry.host, identity: "old",
                                        username: "AWS", secret: "on-disk", issuedAt: 1_800_000_000, expiresAt: 1_800_043_200))
        let service = TokenService(settings: TokenSettings(tokenDirectory: scratch.path + "/tokens"),
                                   cache: TokenCache(store: keyring, superseded: [files]),
                                   environment: Environment(Self.keys.merging(["HOME": scratch.path, "AWS_EC2_METADATA_DISABLED": "true"]) { $1 }),
                                   transport: MockTransport([MockTransport.ecrToken("tok", expiresAt: 1_800_043_200)]), clock: ManualClock())
        _ = try service.token(for: Self.registry)
        #expect(keyring.records.map(\.secret) == ["tok"])
        #expect(files.records.isEmpty)
    }

    @Test func whileAnotherProcessHoldsTheLockTooLongAStillValidTokenIsServed() throws {
        let scratch = try TemporaryDirectory()
        let clock = ManualClock()
        let transport = MockTransport([MockTransport.ecrToken("tok1", expiresAt: 1_800_043_200)])
        let messages = CredentialHelperTests.Messages()
        let service = TokenService(settings: TokenSettings(cacheBackend: .file, tokenDirectory: scratch.path + "/tokens", lockTimeout: 10),
                                   cache: TokenCache(store: MemoryCredentialStore()),
                                   environment: Environment(Self.keys.merging(["HOME": scratch.path, "AWS_EC2_METADATA_DISABLED": "true"]) { $1 }),
                                   transport: transport, clock: clock, diagnostics: Diagnostics(level: .warning, sink: { messages.append($0) }))
        _ = try service.token(for: Self.registry)
        let lockName = try #require(try FileManager.default.contentsOfDirectory(atPath: scratch.path + "/tokens/locks").first)
        let holder = try FileLock(path: scratch.path + "/tokens/locks/" + lockName, timeout: 1)
        clock.advance(30_000)
        let token = try service.token(for: Self.registry)
        #expect(token.source == .staleFallback && token.password == "tok1")
        #expect(transport.requests.count == 1)  // it did not queue a second fetch behind the hanging one
        #expect(messages.text.contains("another process has been refreshing the token for 10 s; using the cached one"))
        withExtendedLifetime(holder) {}
    }

    /// A transport that runs `during` while the request is in flight, then answers as `inner`.
    final class InFlight: HTTPTransport, @unchecked Sendable {
        let inner: MockTransport
        let during: () -> Void
        init(_ inner: MockTransport, during: @escaping () -> Void) {
            self.inner = inner
            self.during = during
        }
        func send(_ request: HTTPRequest, timeouts: HTTPTimeouts) throws -> HTTPResponse {
            during()
            return try inner.send(request, timeouts: timeouts)
        }
    }

    /// A fetch that gave up waiting for its lock (another process held it past the timeout):
    /// its token is served, and cached only when the lock is free afterwards and nobody marked it
    /// meanwhile (a `logout` or `erase` marks every lock it passes; a fetch that saved marks its own).
    @Test(arguments: [("held throughout", false, false, false), ("released", true, false, true),
                      ("released and marked by a logout", true, true, false)])
    func aTokenFetchedWithoutTheLockIsCachedOnlyIfNothingChangedMeanwhile(_ case: String, release: Bool, mark: Bool, cached: Bool) throws {
        let scratch = try TemporaryDirectory()
        let store = MemoryCredentialStore()
        let environment = Environment(Self.keys.merging(["HOME": scratch.path, "AWS_EC2_METADATA_DISABLED": "true"]) { $1 })
        let settings = TokenSettings(cacheBackend: .file, tokenDirectory: scratch.path + "/tokens", lockTimeout: 1)
        let probe = TokenService(settings: settings, cache: TokenCache(store: store), environment: environment,
                                 transport: MockTransport(), clock: ManualClock())
        let lookup = try probe.lookup(Self.registry)
        let lockPath = RegistryLocks(directory: settings.lockDirectory).path(registry: Self.registry.host,
                                                                           holder: .fetch(identity: lookup.fingerprint))
        try PrivateFile.makeDirectory(settings.lockDirectory)
        let holder = LockHolder(try FileLock(path: lockPath, timeout: 0))
        // The lock file's own time, well before the fetch (marks are compared to the second before it).
        var times = [timespec(tv_sec: time(nil) - 10, tv_nsec: 0), timespec(tv_sec: time(nil) - 10, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, lockPath, &times, 0) == 0)
        let transport = InFlight(MockTransport([MockTransport.ecrToken("tok", expiresAt: 1_800_043_200)])) {
            if release { holder.release() }
            if mark { try? FileLock(path: lockPath, timeout: 0).markChanged() }
        }
        let messages = CredentialHelperTests.Messages()
        let service = TokenService(settings: settings, cache: TokenCache(store: store), environment: environment,
                                   transport: transport, clock: ManualClock(), diagnostics: Diagnostics(level: .debug, sink: { messages.append($0) }))
        let token = try service.token(for: Self.registry)
        #expect(token.password == "tok" && token.source == .fetched, "\(`case`)")
        #expect(store.records.count == (cached ? 1 : 0), "\(`case`): \(messages.text)")
        if !cached {
            #expect(messages.text.contains("not caching the token fetched without the lock"), "\(`case`)")
        }
        withExtendedLifetime(holder) {}
    }

    // MARK: classification through the layers

    static let throttled = AWSServiceError(service: "STS", operation: "AssumeRole", status: 400, code: "Throttling", message: "")
    static let denied = AWSServiceError(service: "STS", operation: "AssumeRole", status: 403, code: "AccessDenied", message: "")

    @Test(arguments: [
        (AWSServiceError(service: "ECR", operation: "x", status: 500, code: "ServerException", message: "") as any Error, true),
        (AWSServiceError(service: "ECR", operation: "x", status: 400, code: "TooManyRequestsException", message: ""), true),
        (AWSServiceError(service: "ECR", operation: "x", status: 400, code: "RequestLimitExceeded", message: ""), true),
        (AWSServiceError(service: "ECR", operation: "x", status: 400, code: "AccessDeniedException", message: ""), false),
        (HTTPTransportError(.connectionFailed, url: "u", detail: "refused"), true),
        (HTTPTransportError(.timedOut, url: "u", detail: ""), true),
        (HTTPTransportError(.tls, url: "u", detail: ""), false),
        (HTTPStatusError(url: "u", status: 503), true),
        (HTTPStatusError(url: "u", status: 404), false),
        (ProcessCredentialProvider.TimeLimitExceeded(program: "p", seconds: 30), true),
        (CredentialError(.providerFailed, "wrapped", underlying: throttled), true),
        (CredentialError(.providerFailed, "wrapped", underlying: CredentialError(.providerFailed, "inner", underlying: throttled)), true),
        (CredentialError(.providerFailed, "wrapped", underlying: denied), false),
        (CredentialError(.invalidConfiguration, "bad", underlying: throttled), false),
        (CredentialError(.providerFailed, "no cause"), false),
        (HelperError.notFound(cause: "x", underlying: CredentialError(.providerFailed, "w", underlying: throttled)), true),
        (HelperError.notFound(cause: "x"), false),
        (CocoaError(.fileReadUnknown), false),
    ])
    func passingOrFinalIsDecidedFromTheValue(error: any Error, transient: Bool) {
        #expect(ErrorChain.isTransient(error) == transient)
    }
}
