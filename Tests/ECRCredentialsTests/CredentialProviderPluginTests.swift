// The kubelet plugin: golden requests and responses, strict output, images, durations, service accounts.
import ECRCredentials
import Foundation
import Testing

@Suite struct CredentialProviderPluginTests {
    static let now = 1_800_000_000.0

    struct Fixture {
        let scratch: TemporaryDirectory
        let transport: MockTransport
        let clock = ManualClock(CredentialProviderPluginTests.now)
        let store = MemoryCredentialStore()
        let plugin: CredentialProviderPlugin

        init(_ variables: [String: String] = TokenServiceTests.keys, replies: [MockTransport.Reply]) throws {
            scratch = try TemporaryDirectory()
            transport = MockTransport(replies)
            var environment = variables
            environment["HOME"] = scratch.path
            environment["AWS_EC2_METADATA_DISABLED"] = "true"
            // Refreshed at half the life, as the golden responses were: `FleetScaleTests` cover the spread point.
            var settings = TokenSettings(cacheBackend: .file, tokenDirectory: scratch.path + "/cache")
            settings.refreshWindow = 0.5...0.5
            let service = TokenService(settings: settings,
                                       cache: TokenCache(store: store), environment: Environment(environment),
                                       transport: transport, clock: clock, diagnostics: Diagnostics(level: .quiet))
            plugin = CredentialProviderPlugin(service: service, environment: Environment(environment), clock: clock,
                                              diagnostics: Diagnostics(level: .quiet))
        }

        func answer(_ json: String) throws -> String {
            try plugin.answer(CredentialProviderRequest(json: Array(json.utf8))).json
        }
    }

    static func golden(_ name: String) throws -> String {
        try String(contentsOf: TestResources.url("kubelet/\(name)"), encoding: .utf8)
    }

    @Test(arguments: ["v1", "v1beta1", "v1alpha1"])
    func answersEveryAPIVersionByteForByte(version: String) throws {
        let fixture = try Fixture(replies: [MockTransport.ecrToken("golden-password", expiresAt: Self.now + 43_200)])
        #expect(try fixture.answer(try Self.golden("\(version)-request.json")) == (try Self.golden("\(version)-response.json")))
    }

    /// The kubelet decodes strictly: exactly these fields, no null, nothing else.
    @Test func theResponseHasExactlyTheKubeletsFields() throws {
        let fixture = try Fixture(replies: [MockTransport.ecrToken("p", expiresAt: Self.now + 43_200)])
        let text = try fixture.answer(try Self.golden("v1-request.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(Set(object.keys) == ["kind", "apiVersion", "cacheKeyType", "cacheDuration", "auth"])
        let auth = try #require(object["auth"] as? [String: [String: String]])
        #expect(auth.count == 1)
        #expect(Set(try #require(auth.values.first).keys) == ["username", "password"])
        #expect(!text.contains("null"))
        #expect(text.hasSuffix("}\n") && text.filter { $0 == "\n" }.count == 1)
    }

    @Test(arguments: [(43_200.0, "6h0m0s"), (3_600.0, "30m0s"), (61.0, "30s"), (1.0, "0s")])
    func cacheDurationIsHalfTheRemainingLifeAndZeroWhenNoneIsLeft(left: Double, expected: String) throws {
        let fixture = try Fixture(replies: [MockTransport.ecrToken("p", expiresAt: Self.now + left)])
        let text = try fixture.answer(try Self.golden("v1-request.json"))
        #expect(text.contains("\"cacheDuration\":\"\(expected)\""))
    }

    @Test(arguments: [0.0, -3_600.0])
    func aTokenWithNoLifeLeftIsNeverHandedOver(left: Double) throws {
        let fixture = try Fixture(replies: [MockTransport.ecrToken("p", expiresAt: Self.now + left)])
        let failure = try #require(throws: CredentialProviderPlugin.NoCredentials.self) { try fixture.answer(try Self.golden("v1-request.json")) }
        #expect(failure.underlying is TokenService.ExpiredOnArrival)
    }

    @Test(arguments: [
        ("arn:aws:iam::123456789012:role/pull", true), ("arn:aws-cn:iam::123456789012:role/team/pull", true),
        ("arn:aws:iam::123456789012:user/pull", false), ("arn:aws:iam::12345:role/pull", false),
        ("arn:aws:iam::123456789012:role/", false), ("arn:aws:iam::123456789012:role/r\u{0}x", false),
        ("arn:moon:iam::123456789012:role/r", false), ("frontend-pull", false),
    ])
    func roleARNsAreCheckedPartByPart(text: String, valid: Bool) {
        #expect(CredentialProviderPlugin.isRoleARN(text) == valid)
    }

    @Test func claimsCannotBeSplicedIntoAnotherServiceAccount() {
        let one = ServiceAccountToken(Self.jwt(subject: "y", issuer: "https://a\u{0}system:serviceaccount:x"))
        let two = ServiceAccountToken(Self.jwt(subject: "system:serviceaccount:x\u{0}y", issuer: "https://a"))
        #expect(one.subject == nil && two.subject == nil)  // control characters: not trusted as claims
        #expect(one.owner != two.owner)
        let three = ServiceAccountToken(Self.jwt(subject: #"b","c"#, issuer: "a"))
        let four = ServiceAccountToken(Self.jwt(subject: "c", issuer: #"a","b"#))
        #expect(three.subject == #"b","c"# && four.issuer == #"a","b"#)
        #expect(three.owner != four.owner)
    }

    @Test(arguments: [
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/app", "123456789012.dkr.ecr.us-east-1.amazonaws.com"),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:v1", "123456789012.dkr.ecr.us-east-1.amazonaws.com"),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/app@sha256:0123456789abcdef", "123456789012.dkr.ecr.us-east-1.amazonaws.com"),
        ("https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/app", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
        ("123456789012.DKR.ECR.us-east-1.amazonaws.com/app", "123456789012.dkr.ecr.us-east-1.amazonaws.com"),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com:443/app", "123456789012.dkr.ecr.us-east-1.amazonaws.com:443"),
        ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"),
        ("123456789012.dkr-ecr.us-east-1.on.aws/app", "123456789012.dkr-ecr.us-east-1.on.aws"),
        ("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app", "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com"),
        ("123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov/app", "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov"),
        ("public.ecr.aws/nginx/nginx", "public.ecr.aws"),
    ])
    func imagesAreKeyedByTheirRegistry(image: String, key: String) throws {
        let (_, authKey) = try CredentialProviderPlugin.registry(of: image)
        #expect(authKey == key)
    }

    @Test(arguments: ["docker.io/library/nginx", "nginx", "ghcr.io/o/r", "123456789012.dkr.ecr.us-east-1.amazonaws.com:5000/app",
                      "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example/app", "ftp://x/y", "[::1/app"])
    func otherImagesAreRefusedWithAClearReason(image: String) throws {
        let failure = try #require(throws: CredentialProviderPlugin.NoCredentials.self) { try CredentialProviderPlugin.registry(of: image) }
        #expect(failure.description.hasPrefix(image))
    }

    @Test(arguments: [
        ("", "standard input is empty"),
        ("[]", "not a JSON object"),
        (#"{"kind":"Pod","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"x"}"#, #"kind is "Pod""#),
        (#"{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"x"}"#, "kind is missing"),
        (#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v2","image":"x"}"#, "supported: credentialprovider.kubelet.k8s.io/v1,"),
        (#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":""}"#, "image is missing or empty"),
        (#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":1}"#, "not a JSON object"),
    ])
    func badRequestsSayWhatIsWrong(input: String, reason: String) {
        #expect {
            _ = try CredentialProviderRequest(json: Array(input.utf8))
        } throws: { error in
            "\(error)".hasPrefix("invalid CredentialProviderRequest: ") && "\(error)".contains(reason)
        }
    }

    // MARK: service accounts

    static func jwt(subject: String, issuer: String = "https://oidc.eks.us-west-2.amazonaws.com/id/EXAMPLE") -> String {
        func part(_ json: String) -> String {
            Data(json.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        }
        let claims = (try? JSONSerialization.data(withJSONObject: ["iss": issuer, "sub": subject])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return part(#"{"alg":"RS256"}"#) + "." + part(claims) + ".signature"
    }

    static let webIdentityReply = MockTransport.Reply.response(HTTPResponse(status: 200, body: Array("""
    <AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>
    <AccessKeyId>ASIAPOD</AccessKeyId><SecretAccessKey>pod-secret</SecretAccessKey><SessionToken>pod-session</SessionToken>
    <Expiration>2027-01-15T12:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>
    """.utf8)))

    static func request(token: String, role: String?) -> String {
        let annotations = role.map { "{\"eks.amazonaws.com/ecr-role-arn\":\"\($0)\"}" } ?? "{}"
        return "{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\","
            + "\"image\":\"123456789012.dkr.ecr.us-west-2.amazonaws.com/app\",\"serviceAccountToken\":\"\(token)\","
            + "\"serviceAccountAnnotations\":\(annotations)}"
    }

    @Test func anAnnotatedServiceAccountPullsAsItsRoleWithAnUnsignedCall() throws {
        let token = Self.jwt(subject: "system:serviceaccount:shop:frontend")
        let fixture = try Fixture(replies: [Self.webIdentityReply, MockTransport.ecrToken("pod-password", expiresAt: Self.now + 43_200)])
        let text = try fixture.answer(Self.request(token: token, role: "arn:aws:iam::123456789012:role/frontend-pull"))
        #expect(text.contains("\"password\":\"pod-password\""))
        let sts = fixture.transport.requests[0]
        #expect(sts.header("authorization") == nil && sts.header("x-amz-security-token") == nil)
        let body = String(decoding: sts.body, as: UTF8.self)
        #expect(body.contains("Action=AssumeRoleWithWebIdentity"))
        #expect(body.contains("WebIdentityToken=\(token)"))
        #expect(body.contains("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Ffrontend-pull"))
        #expect(body.contains("RoleSessionName=shop.frontend"))
        // The ECR call is signed with the role's credentials, not the node's.
        #expect(fixture.transport.requests[1].header("authorization")?.contains("Credential=ASIAPOD/") == true)
    }

    @Test func serviceAccountTokensAreCachedPerRoleAndServiceAccountNeverUnderTheNodesKey() throws {
        let role = "arn:aws:iam::123456789012:role/pull"
        let fixture = try Fixture(replies: [
            MockTransport.ecrToken("node", expiresAt: Self.now + 43_200),
            Self.webIdentityReply, MockTransport.ecrToken("frontend", expiresAt: Self.now + 43_200),
            Self.webIdentityReply, MockTransport.ecrToken("backend", expiresAt: Self.now + 43_200),
        ])
        let plain = try Self.golden("v1-request.json")
        #expect(try fixture.answer(plain).contains("\"password\":\"node\""))
        let frontend = Self.request(token: Self.jwt(subject: "system:serviceaccount:shop:frontend"), role: role)
        #expect(try fixture.answer(frontend).contains("\"password\":\"frontend\""))
        // A rotated token of the same service account is a cache hit.
        let rotated = Self.request(token: Self.jwt(subject: "system:serviceaccount:shop:frontend") + "x", role: role)
        #expect(try fixture.answer(rotated).contains("\"password\":\"frontend\""))
        let backend = Self.request(token: Self.jwt(subject: "system:serviceaccount:shop:backend"), role: role)
        #expect(try fixture.answer(backend).contains("\"password\":\"backend\""))
        #expect(try fixture.answer(plain).contains("\"password\":\"node\""))
        #expect(fixture.transport.requests.count == 5)
        #expect(Set(fixture.store.records.map(\.identity)).count == 3)
    }

    @Test func withoutARoleTheNodePulls() throws {
        let fixture = try Fixture(replies: [MockTransport.ecrToken("node", expiresAt: Self.now + 43_200)])
        let text = try fixture.answer(Self.request(token: Self.jwt(subject: "system:serviceaccount:a:b"), role: nil))
        #expect(text.contains("\"password\":\"node\""))
        #expect(fixture.transport.requests.count == 1)
    }

    @Test func theRoleCanComeFromTheEnvironment() throws {
        var variables = TokenServiceTests.keys
        variables["AWS_ECR_ROLE_ARN"] = "arn:aws:iam::123456789012:role/from-env"
        let fixture = try Fixture(variables, replies: [Self.webIdentityReply, MockTransport.ecrToken("p", expiresAt: Self.now + 43_200)])
        _ = try fixture.answer(Self.request(token: Self.jwt(subject: "system:serviceaccount:a:b"), role: nil))
        #expect(String(decoding: fixture.transport.requests[0].body, as: UTF8.self).contains("role%2Ffrom-env"))
    }

    @Test func aRoleThatIsNotAnARNIsRefused() throws {
        let fixture = try Fixture(replies: [])
        #expect(throws: CredentialProviderPlugin.NoCredentials.self) {
            try fixture.answer(Self.request(token: "t", role: "frontend-pull"))
        }
        #expect(fixture.transport.requests.isEmpty)
    }

    @Test(arguments: [
        ("system:serviceaccount:shop:frontend", "shop.frontend"),
        ("system:serviceaccount:a:b:c", nil),
        ("user:someone", nil),
    ])
    func serviceAccountSessionNames(subject: String, expected: String?) {
        #expect(ServiceAccountToken(Self.jwt(subject: subject)).sessionName == expected)
    }

    @Test func aTokenWithoutClaimsIsItsOwnIdentity() {
        let one = ServiceAccountToken("not-a-jwt")
        #expect(one.subject == nil && one.owner.hasPrefix("sha256:"))
        #expect(one.owner != ServiceAccountToken("another").owner)
    }

    // MARK: durations and the printed configuration

    @Test(arguments: [(0, "0s"), (45, "45s"), (60, "1m0s"), (90, "1m30s"), (3600, "1h0m0s"), (21_600, "6h0m0s"), (43_261, "12h1m1s")])
    func durationsAreWrittenAsGoWritesThem(seconds: Int, text: String) throws {
        #expect(GoDuration(seconds: seconds).description == text)
        #expect(try GoDuration(parsing: text).seconds == seconds)
    }

    @Test(arguments: ["12h", "1h30m", "90m", "1.5h", "45s", "0"])
    func durationsReadAsGoReadsThem(text: String) throws {
        let expected = ["12h": 43_200, "1h30m": 5_400, "90m": 5_400, "1.5h": 5_400, "45s": 45, "0": 0][text]
        #expect(try GoDuration(parsing: text).seconds == expected)
    }

    @Test(arguments: ["", "12", "h", "-1h", "1x", "1.5s", "1e9h", "1h 2m"])
    func badDurationsAreRefused(text: String) {
        #expect(throws: GoDuration.ParseError.self) { try GoDuration(parsing: text) }
    }

    @Test func hugeAndNonFiniteLifetimesAreClamped() {
        #expect(GoDuration(rounding: .infinity).seconds == 0)
        #expect(GoDuration(rounding: .nan).seconds == 0)
        #expect(GoDuration(rounding: 1e300).seconds == GoDuration.maximumSeconds)
    }

    @Test func everyECRHostFormIsMatchedByThePrintedPatterns() throws {
        // The kubelet's rule: as many labels, each glob-matched, `*` within one label.
        func matches(_ pattern: String, _ host: String) -> Bool {
            let patternLabels = pattern.split(separator: ".")
            let hostLabels = host.split(separator: ".")
            return patternLabels.count == hostLabels.count && zip(patternLabels, hostLabels).allSatisfy { p, h in
                p == "*" || p == h || (p.hasSuffix("*") && h.hasPrefix(p.dropLast()))
            }
        }
        for host in ["123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012.dkr-ecr.us-east-1.on.aws",
                     "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn",
                     "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", "123456789012.dkr-ecr-fips.us-east-1.on.aws",
                     "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", "123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov",
                     "123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", "123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov",
                     "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu"] {
            #expect(ECRRegistry(host: host) != nil, "\(host) is not recognised")
            #expect(CredentialProviderConfig.matchImages.contains { matches($0, host) }, "\(host) is not matched")
        }
    }
}
