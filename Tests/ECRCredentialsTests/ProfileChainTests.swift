// Role chains, SSO, credential_process, container and instance metadata selection.
import ECRCredentials
import Foundation
import Testing

@Suite struct ProfileChainTests {
    typealias Chain = CredentialChainTests

    static let stsReply = """
    <AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>
    <AccessKeyId>ASIAROLE</AccessKeyId><SecretAccessKey>role-secret</SecretAccessKey><SessionToken>role-token</SessionToken>
    <Expiration>2027-01-15T12:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>
    """

    @Test func roleChainAssumesEachRoleInTurn() throws {
        let transport = MockTransport([.response(HTTPResponse(status: 200, body: Array(Self.stsReply.utf8))),
                                       .response(HTTPResponse(status: 200, body: Array(Self.stsReply.utf8)))])
        let config = """
        [profile top]
        role_arn = arn:aws:iam::111111111111:role/top
        source_profile = middle
        external_id = ext-1
        duration_seconds = 1800
        role_session_name = ci-run
        region = eu-central-1
        [profile middle]
        role_arn = arn:aws:iam::222222222222:role/middle
        source_profile = base
        """
        let context = Chain.context(["AWS_PROFILE": "top"], config: config, credentials: "[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = s\n",
                                    transport: transport)
        let provider = try CredentialChain(context: context).provider()
        #expect(provider.name == "role arn:aws:iam::111111111111:role/top (profile \"top\")")
        let credentials = try provider.credentials()
        #expect(credentials.accessKeyID == "ASIAROLE")
        #expect(credentials.expiration == Timestamp.parseISO8601("2027-01-15T12:00:00Z"))
        let requests = transport.requests
        #expect(requests.count == 2)
        // The inner role first, signed with the base keys, in the region fallback (no region on "middle").
        #expect(requests[0].authority == "sts.us-west-2.amazonaws.com")
        #expect(requests[0].header("authorization")?.contains("Credential=AKIABASE/") == true)
        #expect(String(decoding: requests[0].body, as: UTF8.self).contains("RoleArn=arn%3Aaws%3Aiam%3A%3A222222222222%3Arole%2Fmiddle"))
        // Then the outer one, with the inner role's credentials, in its profile's region.
        #expect(requests[1].authority == "sts.eu-central-1.amazonaws.com")
        #expect(requests[1].header("x-amz-security-token") == "role-token")
        let body = String(decoding: requests[1].body, as: UTF8.self)
        #expect(body.contains("ExternalId=ext-1") && body.contains("DurationSeconds=1800") && body.contains("RoleSessionName=ci-run"))
    }

    @Test func identityOfARoleIncludesItsSource() throws {
        let config = "[profile r]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = a\n[profile s]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = b\n"
        let credentials = "[a]\naws_access_key_id=A\naws_secret_access_key=x\n[b]\naws_access_key_id=B\naws_secret_access_key=y\n"
        let one = try Chain.chain(["AWS_PROFILE": "r"], config: config, credentials: credentials).provider().identity
        let two = try Chain.chain(["AWS_PROFILE": "s"], config: config, credentials: credentials).provider().identity
        let again = try Chain.chain(["AWS_PROFILE": "r"], config: config, credentials: credentials).provider().identity
        #expect(one != two)
        #expect(one == again)
    }

    @Test(arguments: [
        ("[profile a]\nrole_arn = arn:r\nsource_profile = b\n[profile b]\nrole_arn = arn:r\nsource_profile = a\n", "a",
         "the role chain loops: \"a\" -> \"b\" -> \"a\""),
        ("[profile a]\nrole_arn = arn:r\nsource_profile = a\n", "a", "profile \"a\" names itself as source_profile but has no static keys"),
        ("[profile a]\nrole_arn = arn:r\nsource_profile = ghost\n", "a",
         "source_profile \"ghost\" of profile \"a\" is not in /home/u/.aws/config or /home/u/.aws/credentials"),
        ("[profile a]\nrole_arn = arn:r\n", "a", "profile \"a\" has role_arn but neither source_profile nor credential_source (/home/u/.aws/config [profile a])"),
        ("[profile a]\nrole_arn = arn:r\nsource_profile = b\ncredential_source = Environment\n", "a",
         "profile \"a\" has both source_profile and credential_source; keep one"),
        ("[profile a]\nrole_arn = arn:r\ncredential_source = Laptop\n", "a",
         "profile \"a\" has credential_source = Laptop; use Environment, Ec2InstanceMetadata or EcsContainer"),
        ("[profile a]\nrole_arn = arn:r\ncredential_source = Environment\n", "a", "profile \"a\" has credential_source = Environment but AWS_ACCESS_KEY_ID is not set"),
        ("[profile a]\nrole_arn = arn:r\nsource_profile = b\nduration_seconds = 60\n[profile b]\naws_access_key_id=A\naws_secret_access_key=s\n", "a",
         "profile \"a\" has duration_seconds = 60; use 900 to 43200 (/home/u/.aws/config [profile a])"),
        ("[profile a]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n", "a",
         "profile \"a\" names sso_session \"corp\", but /home/u/.aws/config has no [sso-session corp]"),
        ("[profile a]\nsso_start_url = https://x\nsso_account_id = 1\n", "a", "profile \"a\" is an SSO profile without sso_region, sso_role_name"),
        ("[profile a]\nregion = us-east-1\n", "a", "profile \"a\" has no credentials: no role_arn, sso_session, sso_start_url, aws_access_key_id or credential_process"),
        ("[profile a]\nweb_identity_token_file = /t\n", "a", "profile \"a\" has web_identity_token_file but no role_arn (/home/u/.aws/config [profile a])"),
    ])
    func misconfiguredProfilesSayWhatIsWrong(config: String, profile: String, message: String) {
        #expect {
            try Chain.chain(["AWS_PROFILE": profile], config: config).provider()
        } throws: { error in
            "\(error)" == message
        }
    }

    @Test func mfaProfilesFailAtOnceWithAWayForward() {
        let config = "[profile mfa]\nrole_arn = arn:r\nsource_profile = base\nmfa_serial = arn:aws:iam::1:mfa/me\n[profile base]\naws_access_key_id=A\naws_secret_access_key=s\n"
        #expect {
            try Chain.chain(["AWS_PROFILE": "mfa"], config: config).provider()
        } throws: { error in
            let text = "\(error)"
            return text.contains("needs an MFA code (mfa_serial)") && text.contains("SSO profile") && text.contains("credential_process")
        }
    }

    @Test(arguments: [("Ec2InstanceMetadata", "EC2 instance metadata (http://127.0.0.1:9)"),
                      ("EcsContainer", "container credentials (http://127.0.0.1:8/creds)"),
                      ("Environment", "environment variables")])
    func credentialSourcesPickTheirProvider(source: String, name: String) throws {
        let config = "[profile a]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = \(source)\n"
        let variables = ["AWS_PROFILE": "a", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9",
                         "AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://127.0.0.1:8/creds"]
        let context = Chain.context(variables, config: config)
        // credential_source = Environment reads the keys from the environment the profile runs in;
        // here they are given only to that lookup, so the chain itself still picks the profile.
        var keyed = context
        keyed.environment.variables.merge(["AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "s"]) { a, _ in a }
        let provider = try CredentialChain(context: source == "Environment" ? keyed : context).provider(profile: "a")
        #expect((provider as? AssumeRoleCredentialProvider)?.source.name == name)
    }

    @Test func aSelfSourcedProfileUsesItsOwnKeys() throws {
        let config = "[profile a]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = a\naws_access_key_id = A\naws_secret_access_key = s\n"
        let provider = try Chain.chain(["AWS_PROFILE": "a"], config: config).provider()
        #expect(provider is AssumeRoleCredentialProvider)
    }

    @Test func ssoSessionAndLegacyProfilesAreRecognised() throws {
        let config = """
        [sso-session corp]
        sso_start_url = https://corp.awsapps.com/start
        sso_region = eu-west-1
        [profile modern]
        sso_session = corp
        sso_account_id = 123456789012
        sso_role_name = ECRPull
        [profile legacy]
        sso_start_url = https://old.awsapps.com/start
        sso_region = us-east-1
        sso_account_id = 123456789012
        sso_role_name = ECRPull
        """
        let modern = try #require(try Chain.chain(["AWS_PROFILE": "modern"], config: config).provider() as? SSOCredentialProvider)
        #expect(modern.startURL == "https://corp.awsapps.com/start" && modern.ssoRegion == "eu-west-1" && modern.sessionName == "corp")
        // The AWS CLI names the cache file after the SHA-1 of the session name, or of the start URL.
        #expect(modern.tokenCachePath == "/home/u/.aws/sso/cache/\(Self.sha1("corp")).json")
        let legacy = try #require(try Chain.chain(["AWS_PROFILE": "legacy"], config: config).provider() as? SSOCredentialProvider)
        #expect(legacy.tokenCachePath == "/home/u/.aws/sso/cache/\(Self.sha1("https://old.awsapps.com/start")).json")
        #expect(modern.identity != legacy.identity)
    }

    static func sha1(_ text: String) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import hashlib,sys; print(hashlib.sha1(sys.argv[1].encode()).hexdigest())", text]
        let pipe = Pipe()
        process.standardOutput = pipe
        try? process.run()
        process.waitUntilExit()
        return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func staticKeysWinOverCredentialProcess() throws {
        let provider = try Chain.chain([:], credentials: "[default]\naws_access_key_id=A\naws_secret_access_key=s\ncredential_process = /bin/false\n").provider()
        #expect(provider is StaticCredentialProvider)
        let process = try Chain.chain([:], config: "[default]\ncredential_process = /usr/bin/tool --flag\n").provider()
        #expect(process.name == "credential_process of profile \"default\"")
    }

    @Test func webIdentityFromTheEnvironment() throws {
        let provider = try #require(try Chain.chain(["AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token", "AWS_ROLE_ARN": "arn:aws:iam::1:role/irsa",
                                                     "AWS_ROLE_SESSION_NAME": "pod"]).provider() as? WebIdentityCredentialProvider)
        #expect(provider.roleARN == "arn:aws:iam::1:role/irsa" && provider.tokenFile == "/var/run/token" && provider.options.sessionName == "pod")
        #expect(throws: CredentialError.self) { try Chain.chain(["AWS_WEB_IDENTITY_TOKEN_FILE": "/t"]).provider() }
    }

    @Test func environmentBeatsWebIdentityWhichBeatsProfiles() throws {
        let keys = ["AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "s"]
        let web = ["AWS_WEB_IDENTITY_TOKEN_FILE": "/t", "AWS_ROLE_ARN": "arn:r"]
        let profile = "[default]\naws_access_key_id=P\naws_secret_access_key=p\n"
        #expect(try Chain.chain(keys.merging(web) { a, _ in a }, credentials: profile).provider() is StaticCredentialProvider)
        #expect(try Chain.chain(web, credentials: profile).provider() is WebIdentityCredentialProvider)
    }

    @Test(arguments: [
        ("http://127.0.0.1:8080/creds", true), ("http://localhost/creds", true), ("http://169.254.170.2/v2/credentials/x", true),
        ("http://169.254.170.23/v1/credentials", true), ("http://[fd00:ec2::23]/v1/credentials", true), ("https://creds.example/x", true),
        ("http://[::1]:9/x", true), ("http://10.0.0.5/creds", false), ("http://creds.example/x", false), ("ftp://127.0.0.1/x", false),
    ])
    func containerFullURIRules(url: String, allowed: Bool) {
        let context = Chain.context(["AWS_CONTAINER_CREDENTIALS_FULL_URI": url])
        if allowed {
            #expect((try? ContainerCredentialProvider.fromEnvironment(context)) != nil)
        } else {
            #expect(throws: CredentialError.self) { try ContainerCredentialProvider.fromEnvironment(context) }
        }
    }

    @Test func containerRelativeURIGoesToTheECSAgentWithTheTokenFile() throws {
        let scratch = try TemporaryDirectory()
        try "secret-token\n".write(toFile: scratch.path + "/token", atomically: true, encoding: .utf8)
        let reply = #"{"AccessKeyId":"ASIACONT","SecretAccessKey":"c","Token":"t","Expiration":"2027-01-01T00:00:00Z"}"#
        let transport = MockTransport([.response(HTTPResponse(status: 200, body: Array(reply.utf8)))])
        let context = Chain.context(["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc?x=1",
                                     "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": scratch.path + "/token"], transport: transport)
        let provider = try CredentialChain(context: context).provider()
        #expect(try provider.credentials().accessKeyID == "ASIACONT")
        let request = try #require(transport.requests.first)
        #expect(request.url == "http://169.254.170.2/v2/credentials/abc?x=1")
        #expect(request.header("authorization") == "secret-token")
    }

    @Test func instanceMetadataIsTheLastResortAndSaysWhatWasSearched() throws {
        let transport = MockTransport([.failure(HTTPTransportError(.connectionFailed, url: "u", detail: "Connection refused"))])
        let context = Chain.context(["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9"], transport: transport)
        let provider = try CredentialChain(context: context).provider()
        #expect(provider.identity == "imds\0http://127.0.0.1:9")
        #expect {
            try provider.credentials()
        } throws: { error in
            "\(error)" == "no AWS credentials in the environment or in /home/u/.aws/config, and no credentials from EC2 instance metadata (http://127.0.0.1:9): Connection refused"
        }
        #expect(transport.requests.count == 1)
    }

    @Test func instanceMetadataV2ThenRoleThenCredentials() throws {
        let reply = #"{"Code":"Success","AccessKeyId":"ASIAIMDS","SecretAccessKey":"i","Token":"t","Expiration":"2027-01-01T00:00:00Z"}"#
        let transport = MockTransport([.response(HTTPResponse(status: 200, body: Array("imds-token".utf8))),
                                       .response(HTTPResponse(status: 200, body: Array("node-role\n".utf8))),
                                       .response(HTTPResponse(status: 200, body: Array(reply.utf8)))])
        let context = Chain.context(["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9"], transport: transport)
        #expect(try CredentialChain(context: context).provider().credentials().accessKeyID == "ASIAIMDS")
        let requests = transport.requests
        #expect(requests.map(\.method) == ["PUT", "GET", "GET"])
        #expect(requests[0].header("x-aws-ec2-metadata-token-ttl-seconds") == "21600")
        #expect(requests[2].path == "/latest/meta-data/iam/security-credentials/node-role")
        #expect(requests[2].header("x-aws-ec2-metadata-token") == "imds-token")
    }

    @Test func instanceMetadataFallsBackToV1WhenTheTokenCannotComeBack() throws {
        let reply = #"{"Code":"Success","AccessKeyId":"ASIAV1","SecretAccessKey":"i","Token":"t","Expiration":"2027-01-01T00:00:00Z"}"#
        let transport = MockTransport([.failure(HTTPTransportError(.timedOut, url: "u", detail: "timed out")),
                                       .response(HTTPResponse(status: 200, body: Array("role".utf8))),
                                       .response(HTTPResponse(status: 200, body: Array(reply.utf8)))])
        let context = Chain.context(["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9"], transport: transport)
        #expect(try CredentialChain(context: context).provider().credentials().accessKeyID == "ASIAV1")
        #expect(transport.requests[1].header("x-aws-ec2-metadata-token") == nil)
        let strict = MockTransport([.failure(HTTPTransportError(.timedOut, url: "u", detail: "timed out"))])
        let strictContext = Chain.context(["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9", "AWS_EC2_METADATA_V1_DISABLED": "true"],
                                          transport: strict)
        #expect(throws: CredentialError.self) { try CredentialChain(context: strictContext).provider().credentials() }
        #expect(strict.requests.count == 1)
    }

    @Test func nothingAtAllIsNotConfigured() {
        #expect {
            try Chain.chain([:]).provider()
        } throws: { error in
            (error as? CredentialError)?.code == .notConfigured
        }
    }
}

@Suite struct CommandLineWordsTests {
    @Test(arguments: [
        ("aws-vault exec prod --json", ["aws-vault", "exec", "prod", "--json"]),
        ("  /usr/bin/tool   'single quoted arg'  \"double \\\"quoted\\\" arg\" ", ["/usr/bin/tool", "single quoted arg", "double \"quoted\" arg"]),
        ("tool a\\ b c'd'e \"\"", ["tool", "a b", "cde", ""]),
        ("tool \"keep \\n backslash\"", ["tool", "keep \\n backslash"]),
        ("", []),
    ])
    func splitsLikeAShell(line: String, words: [String]) throws {
        #expect(try CommandLineWords.split(line) == words)
    }

    @Test func unterminatedQuotesAreErrors() {
        #expect(throws: CommandLineWords.UnterminatedQuote.self) { try CommandLineWords.split("tool 'open") }
        #expect(throws: CommandLineWords.UnterminatedQuote.self) { try CommandLineWords.split("tool \"open") }
    }
}

@Suite struct ToolConfigFileTests {
    static let file = """
    [registry 123456789012.dkr.ecr.us-east-1.amazonaws.com]
    profile = exact
    [registry *.dkr.ecr.*.amazonaws.com]
    profile = broad
    [registry *.dkr.ecr.eu-*.amazonaws.com]
    role_arn = arn:aws:iam::1:role/eu
    external_id = x
    [account 210987654321]
    profile = partner
    [cache]
    backend = file
    """

    @Test(arguments: [
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012", "profile:exact"),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "123456789012", "role:arn:aws:iam::1:role/eu"),
        ("123456789012.dkr.ecr.ap-south-1.amazonaws.com", "123456789012", "profile:broad"),
        ("210987654321.dkr.ecr.us-east-1.amazonaws.com", "210987654321", "profile:broad"),
        ("210987654321.dkr-ecr.us-east-1.on.aws", "210987654321", "profile:partner"),
        ("public.ecr.aws", nil, "none"),
    ] as [(String, String?, String)])
    func theMostSpecificRuleWins(host: String, account: String?, expected: String) throws {
        let config = try ToolConfigFile(try AWSConfigFile(path: "/c", text: Self.file))
        let rule = config.identity(host: host, accountID: account)
        let described = rule.map { $0.roleARN.map { "role:\($0)" } ?? "profile:\($0.profile!)" } ?? "none"
        #expect(described == expected)
        #expect(config.cacheSettings == ["backend": "file"])
    }

    @Test(arguments: [
        ("[registry x]\nrol_arn = a\n", "/c:1: unknown setting rol_arn in [registry x]; use duration_seconds, external_id, profile, region, role_arn, role_session_name"),
        ("[registry x]\nregion = us-east-1\n", "/c:1: [registry x] needs profile or role_arn"),
        ("[account 12]\nprofile = p\n", "/c:1: [account 12] needs a 12-digit account id"),
        ("[profile x]\nregion = a\n", "/c:1: unknown section [profile x]; use [registry HOST], [account ID], [mirror UPSTREAM] or [cache]"),
        ("[registry x]\nprofile = p\nduration_seconds = 5\n", "/c:1: duration_seconds must be 900 to 43200"),
    ])
    func mistakesNameTheLine(text: String, message: String) {
        #expect {
            try ToolConfigFile(try AWSConfigFile(path: "/c", text: text))
        } throws: { error in
            "\(error)" == message
        }
    }
}
