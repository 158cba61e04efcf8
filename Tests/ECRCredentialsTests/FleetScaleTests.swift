// A fleet started together: throttled fetches retried inside a deadline, refreshes spread apart.
import ECRCredentials
import Foundation
import Testing

@Suite struct ThrottlingBackoffTests {
    static let start = Timestamp(timeIntervalSince1970: 1_800_000_000)

    @Test func theFirstPauseSpansTheWholeWindowAndNeverCrossesTheDeadline() {
        let far = ThrottlingBackoff(deadline: Self.start + 1000)
        #expect(far.delay(afterAttempt: 1, now: Self.start, random: FixedRandom(0.999)) == 40 * 0.999)
        #expect(far.delay(afterAttempt: 2, now: Self.start, random: FixedRandom(0.999)) == 80 * 0.999)
        #expect(far.delay(afterAttempt: 1, now: Self.start, random: FixedRandom(0)) == 0)
        // 10 s budget (the docker helper): the window is what is left, less the reserve.
        let helper = ThrottlingBackoff(deadline: Self.start + 10)
        #expect(helper.delay(afterAttempt: 1, now: Self.start, random: FixedRandom(0.999)) == 9 * 0.999)
        #expect(helper.delay(afterAttempt: 1, now: Self.start + 5, random: FixedRandom(1)) == 4)
    }

    @Test func givesUpWhenTheWindowLeftIsTooShortOrAfterTheLastAttempt() {
        let backoff = ThrottlingBackoff(deadline: Self.start + 50)
        #expect(backoff.delay(afterAttempt: 1, now: Self.start + 47.5, random: FixedRandom(0.5)) == nil)
        #expect(backoff.delay(afterAttempt: 1, now: Self.start + 46.9, random: FixedRandom(0.5)) != nil)
        #expect(backoff.delay(afterAttempt: 6, now: Self.start, random: FixedRandom(0.5)) == nil)
        #expect(backoff.delay(afterAttempt: 1, now: Self.start + 60, random: FixedRandom(0.5)) == nil)
    }

    @Test func honoursRetryAfterButNotPastTheDeadline() {
        let backoff = ThrottlingBackoff(deadline: Self.start + 50)
        #expect(backoff.delay(afterAttempt: 1, now: Self.start, retryAfter: 30, random: FixedRandom(0.1)) == 30)
        #expect(backoff.delay(afterAttempt: 1, now: Self.start, retryAfter: 2, random: FixedRandom(0.5)) == 20)
        #expect(backoff.delay(afterAttempt: 1, now: Self.start, retryAfter: 60, random: FixedRandom(0.5)) == nil)
    }

    @Test func retryAfterIsReadFromTheAnswer() {
        let response = HTTPResponse(status: 400, headers: [HTTPHeader("Retry-After", "7")],
                                    body: Array("{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}".utf8))
        let error = AWSServiceError.parse(response, service: "ECR", operation: "GetAuthorizationToken")
        #expect(error.isThrottling && error.retryAfter == 7)
        let absurd = HTTPResponse(status: 429, headers: [HTTPHeader("Retry-After", "99999999999")], body: [])
        #expect(AWSServiceError.parse(absurd, service: "ECR", operation: "x").retryAfter == nil)
        #expect(AWSServiceError.parse(absurd, service: "ECR", operation: "x").isThrottling)
        let server = HTTPResponse(status: 503, body: Array("{\"__type\":\"ServiceUnavailableException\"}".utf8))
        #expect(!AWSServiceError.parse(server, service: "ECR", operation: "x").isThrottling)
    }

    static let registry = ECRRegistry(host: "123456789012.dkr.ecr.us-west-2.amazonaws.com")!
    static let credentials = AWSCredentials(accessKeyID: "AKIAEXAMPLE", secretAccessKey: "secret")
    static let throttled = MockTransport.error(400, "ThrottlingException", "Rate exceeded")

    static func client(_ transport: MockTransport, _ clock: ManualClock, random: any RandomSource) -> ECRClient {
        ECRClient(sender: AWSRequestSender(transport: transport, clock: clock, diagnostics: Diagnostics(level: .quiet), random: random),
                  endpoints: EndpointResolver(environment: Environment([:])))
    }

    /// The deadline is honoured and the attempts bounded, however long the throttling lasts.
    @Test(arguments: [0.0, 0.3, 0.999])
    func aThrottledCallKeepsTryingUntilItsDeadlineAndNoLonger(draw: Double) throws {
        let clock = ManualClock()
        let transport = MockTransport(Array(repeating: Self.throttled, count: 50))
        let deadline = clock.now() + 50
        let client = Self.client(transport, clock, random: FixedRandom(draw)).retryingThrottling(ThrottlingBackoff(deadline: deadline))
        let error = try #require(throws: AWSServiceError.self) { try client.authorizationToken(for: Self.registry, credentials: Self.credentials) }
        #expect(error.code == "ThrottlingException")
        #expect(transport.requests.count >= 2 && transport.requests.count <= 6)
        #expect(clock.now() <= deadline - 1)
    }

    @Test func aThrottledCallSucceedsOnALaterTryPastTheOldThree() throws {
        let clock = ManualClock()
        let transport = MockTransport(Array(repeating: Self.throttled, count: 4) + [MockTransport.ecrToken("t", expiresAt: 1_800_043_200)])
        let client = Self.client(transport, clock, random: FixedRandom(0.2)).retryingThrottling(ThrottlingBackoff(deadline: clock.now() + 50))
        #expect(try client.authorizationToken(for: Self.registry, credentials: Self.credentials).password == "t")
        #expect(transport.requests.count == 5)
        #expect(clock.slept.allSatisfy { $0 >= 0 } && clock.slept.reduce(0, +) <= 49)
    }

    /// Without a throttling budget (a still-valid token to fall back on), and for server faults
    /// inside one, the quick three attempts stay.
    @Test func otherFaultsKeepTheirThreeAttempts() throws {
        let clock = ManualClock()
        let plain = MockTransport(Array(repeating: Self.throttled, count: 5))
        #expect(throws: AWSServiceError.self) { try Self.client(plain, clock, random: FixedRandom(0.5)).authorizationToken(for: Self.registry, credentials: Self.credentials) }
        #expect(plain.requests.count == 3)
        let server = MockTransport([Self.throttled] + Array(repeating: MockTransport.error(503, "ServiceUnavailableException", "busy"), count: 5))
        let client = Self.client(server, clock, random: FixedRandom(0.5)).retryingThrottling(ThrottlingBackoff(deadline: clock.now() + 50))
        let error = try #require(throws: AWSServiceError.self) { try client.authorizationToken(for: Self.registry, credentials: Self.credentials) }
        #expect(error.code == "ServiceUnavailableException")
        #expect(server.requests.count == 4)
    }
}

@Suite struct RefreshScheduleTests {
    static let registries = ["123456789012.dkr.ecr.us-east-1.amazonaws.com", "210987654321.dkr.ecr.eu-west-1.amazonaws.com", "public.ecr.aws"]

    @Test func thePointStaysBetween40And60PercentOfTheLife() {
        for index in 0..<2000 {
            let schedule = RefreshSchedule(machine: NamedMachine("node-\(index)"))
            for registry in Self.registries {
                let fraction = schedule.fraction(registry: registry)
                #expect(fraction >= 0.4 && fraction <= 0.6)
            }
        }
    }

    @Test func thePointIsStablePerMachineAndRegistryAndDiffersBetweenThem() {
        let one = RefreshSchedule(machine: NamedMachine("machine-id:4f2a0c5d"))
        let again = RefreshSchedule(machine: NamedMachine("machine-id:4f2a0c5d"))
        let other = RefreshSchedule(machine: NamedMachine("machine-id:4f2a0c5e"))
        for registry in Self.registries {
            #expect(one.fraction(registry: registry) == again.fraction(registry: registry))
            #expect(one.fraction(registry: registry) != other.fraction(registry: registry))
        }
        #expect(one.fraction(registry: Self.registries[0]) != one.fraction(registry: Self.registries[1]))
    }

    /// A thousand nodes that fetched in the same second refresh over 2.4 hours, evenly.
    @Test func aThousandNodesSpreadOverTheWholeWindow() {
        let life = 43_200.0
        let moments = (0..<1000).map { RefreshSchedule(machine: NamedMachine("node-\($0)")).fraction(registry: Self.registries[0]) * life }
        #expect(moments.max()! - moments.min()! > 0.98 * 0.2 * life)
        var bins = [Int](repeating: 0, count: 10)
        for moment in moments { bins[min(9, Int((moment / life - 0.4) / 0.02))] += 1 }
        #expect(bins.allSatisfy { $0 >= 60 && $0 <= 140 }, "\(bins)")
        // Never more than 3 refreshes in one second (the old half-life: all 1000 in the same one).
        let perSecond = Dictionary(grouping: moments, by: { Int($0) }).values.map(\.count)
        #expect(perSecond.max()! <= 3)
    }

    @Test func freshnessFollowsThePointAndNeverReachesTheExpiry() {
        let machine = CountingMachine("node-7")
        let schedule = RefreshSchedule(machine: machine)
        let record = CredentialRecord(kind: .token, registry: Self.registries[0], serverURL: Self.registries[0], identity: "i",
                                      username: "AWS", secret: "s", issuedAt: 0, expiresAt: 1000)
        #expect(schedule.isFresh(record, at: 399))
        #expect(machine.reads == 0)  // the first 40% of a token's life needs no identity
        let point = schedule.fraction(registry: Self.registries[0]) * 1000
        #expect(schedule.isFresh(record, at: point - 0.001))
        #expect(!schedule.isFresh(record, at: point))
        #expect(!schedule.isFresh(record, at: 600))
        let wide = RefreshSchedule(window: 0.4...1.0, machine: machine)
        #expect(!wide.isFresh(record, at: 1000))
    }
}

@Suite struct FleetTokenServiceTests {
    static let registry = ThrottlingBackoffTests.registry
    static let throttled = ThrottlingBackoffTests.throttled
    static let life = 43_200.0

    struct Fixture {
        let scratch: TemporaryDirectory
        let transport: MockTransport
        let clock = ManualClock()
        let store = MemoryCredentialStore()
        let service: TokenService

        init(replies: [MockTransport.Reply], budget: Double = 10, machine: String = "node-1", random: Double = 0.3) throws {
            scratch = try TemporaryDirectory()
            transport = MockTransport(replies)
            var settings = TokenSettings(cacheBackend: .file, tokenDirectory: scratch.path + "/tokens")
            settings.throttlingBudget = budget
            service = TokenService(settings: settings, cache: TokenCache(store: store),
                                   environment: Environment(TokenServiceTests.keys.merging(["HOME": scratch.path, "AWS_EC2_METADATA_DISABLED": "true"]) { $1 }),
                                   transport: transport, clock: clock, diagnostics: Diagnostics(level: .quiet),
                                   random: FixedRandom(random), machine: NamedMachine(machine))
        }

        var fraction: Double { service.schedule.fraction(registry: FleetTokenServiceTests.registry.host) }
    }

    /// The old policy gave up after three throttled tries; the docker helper's 10 s now hold more.
    @Test func withNothingCachedAThrottledFetchKeepsTryingInsideTheBudget() throws {
        let fixture = try Fixture(replies: Array(repeating: Self.throttled, count: 4)
                                  + [MockTransport.ecrToken("t", expiresAt: 1_800_000_000 + Self.life)], random: 0.1)
        let token = try fixture.service.token(for: Self.registry)
        #expect(token.password == "t" && token.source == .fetched)
        #expect(fixture.transport.requests.count == 5)
        #expect(fixture.clock.now().timeIntervalSince1970 - 1_800_000_000 <= 9)
    }

    /// A budget too short for one long-window retry keeps the quick three tries of a budget of
    /// 0: a positive budget never gives fewer tries.
    @Test(arguments: [0.0, 1.0, 2.9])
    func aShortBudgetKeepsTheThreeQuickTries(budget: Double) throws {
        let fixture = try Fixture(replies: Array(repeating: Self.throttled, count: 50), budget: budget, random: 0.9)
        let error = try #require(throws: AWSServiceError.self) { try fixture.service.token(for: Self.registry) }
        #expect(error.code == "ThrottlingException")
        #expect(fixture.transport.requests.count == 3)
        #expect(fixture.clock.now().timeIntervalSince1970 - 1_800_000_000 < 1)
    }

    @Test(arguments: [10.0, 50.0])
    func aThrottledFetchEndsAtItsBudget(budget: Double) throws {
        let fixture = try Fixture(replies: Array(repeating: Self.throttled, count: 50), budget: budget, random: 0.9)
        let error = try #require(throws: AWSServiceError.self) { try fixture.service.token(for: Self.registry) }
        #expect(error.code == "ThrottlingException")
        #expect(fixture.clock.now().timeIntervalSince1970 - 1_800_000_000 <= budget - 1)
        #expect(fixture.transport.requests.count <= 6)
    }

    /// A still-valid cached token is served after the quick three tries, as before.
    @Test func aStaleButValidTokenIsServedFirst() throws {
        let fixture = try Fixture(replies: [MockTransport.ecrToken("old", expiresAt: 1_800_000_000 + Self.life)]
                                  + Array(repeating: Self.throttled, count: 50), budget: 50)
        _ = try fixture.service.token(for: Self.registry)
        fixture.clock.advance(0.7 * Self.life)
        let started = fixture.clock.now()
        let token = try fixture.service.token(for: Self.registry)
        #expect(token.password == "old" && token.source == .staleFallback)
        #expect(fixture.transport.requests.count == 1 + 3)
        #expect(fixture.clock.now().timeIntervalSince(started) < 3)
    }

    /// The cached token is refreshed at this machine's point, not at half its life.
    @Test(arguments: ["node-1", "node-2", "node-3"])
    func theCachedTokenIsRefreshedAtThisMachinesPoint(machine: String) throws {
        let fixture = try Fixture(replies: [MockTransport.ecrToken("a", expiresAt: 1_800_000_000 + Self.life),
                                            MockTransport.ecrToken("b", expiresAt: 1_800_000_000 + 2 * Self.life)], machine: machine)
        _ = try fixture.service.token(for: Self.registry)
        fixture.clock.advance(fixture.fraction * Self.life - 1)
        #expect(try fixture.service.token(for: Self.registry).source == .cache)
        fixture.clock.advance(1)
        #expect(try fixture.service.token(for: Self.registry).password == "b")
    }

    /// The kubelet keeps the credentials until the same point, so it asks again when the plugin refreshes.
    @Test(arguments: ["node-1", "node-2"])
    func thePluginsCacheDurationEndsAtTheRefreshPoint(machine: String) throws {
        let fixture = try Fixture(replies: [MockTransport.ecrToken("p", expiresAt: 1_800_000_000 + Self.life)], machine: machine)
        let plugin = CredentialProviderPlugin(service: fixture.service, environment: Environment([:]), clock: fixture.clock,
                                              diagnostics: Diagnostics(level: .quiet))
        let request = try CredentialProviderRequest(json: Array(
            "{\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\",\"kind\":\"CredentialProviderRequest\",\"image\":\"\(Self.registry.host)/app\"}".utf8))
        let expected = GoDuration(rounding: fixture.fraction * Self.life)
        #expect(try plugin.answer(request).cacheDuration == expected)
        #expect(expected != GoDuration(rounding: Self.life / 2))
    }
}

/// The refresh herd, in virtual time, through the library's own schedule; `bench/fleet.py` reads
/// the points from `FLEET_REFRESH_FRACTIONS` (a file this test writes when the variable is set).
@Suite struct RefreshHerdTests {
    static let registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com"

    @Test func aThousandNodesStartedTogetherNeverRefreshFasterThanTheBucketRefills() throws {
        let fractions = (0..<1000).map { RefreshSchedule(machine: NamedMachine("node-\($0)")).fraction(registry: Self.registry) }
        let halfLife = (0..<1000).map { RefreshSchedule(window: 0.5...0.5, machine: NamedMachine("node-\($0)")).fraction(registry: Self.registry) }
        // Every node fetched in the same second; 24 hours of 12-hour tokens, each refreshed at its point.
        func peak(_ points: [Double]) -> Int {
            var perSecond: [Int: Int] = [:]
            for point in points {
                var moment = 0.0
                while true {
                    moment += point * 43_200
                    guard moment < 86_400 else { break }
                    perSecond[Int(moment), default: 0] += 1
                }
            }
            return perSecond.values.max() ?? 0
        }
        #expect(peak(fractions) <= 20)
        #expect(peak(halfLife) == 1000)
        if let path = ProcessInfo.processInfo.environment["FLEET_REFRESH_FRACTIONS"] {
            let text = "{\"spread\":\(fractions),\"halfLife\":\(halfLife)}"
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        }
    }
}
