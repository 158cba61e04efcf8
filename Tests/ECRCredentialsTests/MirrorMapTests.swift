// Mirrors: parsing and refusing mappings, config-file sections, plugin arguments, and the plugin's answer for a mirrored upstream.
import ECRCredentials
import Foundation
import Testing

@Suite struct MirrorMapTests {
    static let r = "123456789012.dkr.ecr.us-east-1.amazonaws.com"

    @Test(arguments: [
        ("docker.io=\(r)/docker-hub", "docker.io", "docker-hub"),
        ("index.docker.io=\(r)/docker-hub", "docker.io", "docker-hub"),
        ("registry-1.docker.io=https://\(r)/docker-hub/", "docker.io", "docker-hub"),
        ("Quay.IO=\(r)/quay", "quay.io", "quay"),
        ("registry.k8s.io=\(r)/k8s", "registry.k8s.io", "k8s"),
        ("myreg.example:5000=\(r)/team/mirror", "myreg.example:5000", "team/mirror"),
        ("210987654321.dkr.ecr.eu-west-1.amazonaws.com=\(r)/ROOT", "210987654321.dkr.ecr.eu-west-1.amazonaws.com", ""),
        ("ghcr.io=\(r)", "ghcr.io", ""),
    ])
    func mappingsRead(text: String, upstream: String, prefix: String) throws {
        let mirror = try Mirror(parsing: text)
        #expect(mirror.upstream == upstream)
        #expect(mirror.registry.host == Self.r)
        #expect(mirror.prefix == prefix)
        #expect(try Mirror(parsing: mirror.description) == mirror)
    }

    @Test(arguments: [
        ("docker.io", "expected UPSTREAM=ECR_HOST/PREFIX"),
        ("docker.io=registry.example.com/hub", "registry.example.com is not an Amazon ECR private registry"),
        ("docker.io=public.ecr.aws/hub", "public.ecr.aws is not an Amazon ECR private registry"),
        ("docker.io=\(r).evil.example/hub", "is not an Amazon ECR private registry"),
        ("docker.io=\(r)/../other", "contains \"..\""),
        ("docker.io=\(r)/a/../b", "contains \"..\""),
        ("docker.io=\(r)/Docker-Hub", "is not an ECR repository prefix"),
        ("docker.io=\(r)/hub//x", "is not an ECR repository prefix"),
        ("docker.io=\(r)/-hub", "is not an ECR repository prefix"),
        ("docker.io=\(r)/" + String(repeating: "a", count: 31), "longer than ECR's 30 characters"),
        ("=\(r)/hub", "the upstream is not a registry host"),
        ("https://docker.io=\(r)/hub", "without scheme or path"),
        ("docker.io/library=\(r)/hub", "without scheme or path"),
        ("\(r)=\(r)/x", "a registry cannot mirror itself"),
        ("_default=\(r)/x", "the upstream is not a registry host"),
        ("my_registry.example=\(r)/x", "the upstream is not a registry host"),
    ])
    func badMappingsAreRefusedWithOneLine(text: String, message: String) {
        let error = #expect(throws: Mirror.InvalidMapping.self) { try Mirror(parsing: text) }
        let line = "\(error.map { "\($0)" } ?? "")"
        #expect(line.contains(message), "\(line)")
        #expect(line.hasPrefix("--mirror ") && !line.contains("\n"))
    }

    @Test func anUpstreamIsMirroredOnceWhateverItsName() throws {
        let error = #expect(throws: Mirror.InvalidMapping.self) {
            try MirrorMap(arguments: ["docker.io=\(Self.r)/docker-hub", "registry-1.docker.io=\(Self.r)/hub2"])
        }
        #expect("\(error.map { "\($0)" } ?? "")".contains("docker.io already has a mirror (--mirror docker.io=\(Self.r)/docker-hub)"))
    }

    @Test func everyDockerHubNameFindsTheDockerHubMirror() throws {
        let map = try MirrorMap(arguments: ["docker.io=\(Self.r)/docker-hub", "quay.io=\(Self.r)/quay"])
        for host in ["docker.io", "index.docker.io", "registry-1.docker.io"] {
            #expect(map.mirror(for: RegistryAddress(host: host))?.prefix == "docker-hub")
        }
        #expect(map.mirror(for: RegistryAddress(host: "quay.io"))?.prefix == "quay")
        #expect(map.mirror(for: RegistryAddress(host: "quay.io", port: 5000)) == nil)
        #expect(map.mirror(for: RegistryAddress(host: "ghcr.io")) == nil)
        #expect(map.arguments == ["docker.io=\(Self.r)/docker-hub", "quay.io=\(Self.r)/quay"])
    }

    // MARK: the config file

    @Test func mirrorSectionsOfTheConfigFile() throws {
        let text = """
        [mirror docker.io]
        target = \(Self.r)/docker-hub

        [mirror quay.io]
        target = \(Self.r)/quay
        """
        let config = try ToolConfigFile(try AWSConfigFile(path: "/c", text: text))
        #expect(config.mirrors.arguments == ["docker.io=\(Self.r)/docker-hub", "quay.io=\(Self.r)/quay"])
        #expect(config.mirrors.mirrors[0].origin == "/c:1 [mirror docker.io]")
        // Arguments and the file together; an upstream in both is refused, naming both places.
        let merged = try PluginArguments(mirrors: ["ghcr.io=\(Self.r)/github"]).mirrorMap(config: config)
        #expect(merged.mirrors.map(\.upstream) == ["ghcr.io", "docker.io", "quay.io"])
        let error = #expect(throws: Mirror.InvalidMapping.self) {
            try PluginArguments(mirrors: ["docker.io=\(Self.r)/other"]).mirrorMap(config: config)
        }
        #expect("\(error.map { "\($0)" } ?? "")".contains("already has a mirror (--mirror docker.io=\(Self.r)/other)"))
    }

    @Test(arguments: [
        ("[mirror]\ntarget = x\n", "/c:1: [mirror] needs an upstream registry host, such as [mirror docker.io]"),
        ("[mirror docker.io]\nprofile = p\n", "/c:1: unknown setting profile in [mirror docker.io]; use target = ECR_HOST/PREFIX"),
        ("[mirror docker.io]\n", "/c:1: [mirror docker.io] needs target = ECR_HOST/PREFIX, such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/docker-hub"),
        ("[mirror docker.io]\ntarget = example.com/hub\n",
         "/c:1: [mirror docker.io]: example.com is not an Amazon ECR private registry (ACCOUNT.dkr.ecr.REGION.amazonaws.com); only those have pull-through caches"),
        ("[mirror docker.io]\ntarget = \(r)/../x\n", "/c:1: [mirror docker.io]: the prefix \"../x\" contains \"..\""),
        ("[mirror docker.io]\ntarget = \(r)/a\n[mirror index.docker.io]\ntarget = \(r)/b\n",
         "/c:3: [mirror index.docker.io]: docker.io already has a mirror (/c:1 [mirror docker.io] docker.io=\(r)/a); give each upstream once"),
    ])
    func badMirrorSectionsNameTheLine(text: String, message: String) {
        #expect {
            try ToolConfigFile(try AWSConfigFile(path: "/c", text: text))
        } throws: { error in
            "\(error)" == message
        }
    }

    // MARK: the kubelet's args

    @Test(arguments: [
        ([], []),
        (["get-credentials"], []),
        (["--mirror", "a=b"], ["a=b"]),
        (["get-credentials", "--mirror=a=b", "--mirror", "c=d"], ["a=b", "c=d"]),
    ] as [([String], [String])])
    func kubeletArgumentsRead(arguments: [String], mirrors: [String]) {
        #expect(PluginArguments(arguments)?.mirrors == mirrors)
    }

    @Test(arguments: [["config"], ["--help"], ["--mirror"], ["get-credentials", "config"], ["--mirror", "a=b", "version"],
                      ["--mirrors", "a=b"]])
    func otherArgumentsAreForPeople(arguments: [String]) {
        #expect(PluginArguments(arguments) == nil)
    }

    // MARK: the plugin

    struct Fixture {
        let scratch: TemporaryDirectory
        let transport: MockTransport
        let plugin: CredentialProviderPlugin

        init(mirrors: [String], replies: [MockTransport.Reply], variables: [String: String] = TokenServiceTests.keys) throws {
            scratch = try TemporaryDirectory()
            transport = MockTransport(replies)
            var environment = variables
            environment["HOME"] = scratch.path
            environment["AWS_EC2_METADATA_DISABLED"] = "true"
            let clock = ManualClock(CredentialProviderPluginTests.now)
            // Refreshed at half the life, as the golden responses are: `FleetScaleTests` cover the spread point.
            var settings = TokenSettings(cacheBackend: .file, tokenDirectory: scratch.path + "/cache")
            settings.refreshWindow = 0.5...0.5
            let service = TokenService(settings: settings,
                                       cache: TokenCache(store: MemoryCredentialStore()), environment: Environment(environment),
                                       transport: transport, clock: clock, diagnostics: Diagnostics(level: .quiet))
            plugin = CredentialProviderPlugin(service: service, environment: Environment(environment), clock: clock,
                                              diagnostics: Diagnostics(level: .quiet), mirrors: try MirrorMap(arguments: mirrors))
        }

        func answer(image: String, extra: String = "") throws -> String {
            let json = "{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\","
                + "\"image\":\"\(image)\"\(extra)}"
            return try plugin.answer(CredentialProviderRequest(json: Array(json.utf8))).json
        }
    }

    @Test(arguments: ["docker.io/library/app", "docker.io/library/app@sha256:" + String(repeating: "a", count: 64),
                      "index.docker.io/library/app", "registry-1.docker.io/org/app"])
    func aMirroredUpstreamGetsTheMirrorsTokenUnderTheUpstreamsKey(image: String) throws {
        let fixture = try Fixture(mirrors: ["docker.io=\(Self.r)/docker-hub"],
                                  replies: [MockTransport.ecrToken("mirror-password", expiresAt: CredentialProviderPluginTests.now + 43_200)])
        let text = try fixture.answer(image: image)
        let host = String(image.prefix { $0 != "/" })
        #expect(text == "{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\"credentialprovider.kubelet.k8s.io/v1\","
            + "\"cacheKeyType\":\"Registry\",\"cacheDuration\":\"6h0m0s\","
            + "\"auth\":{\"\(host)\":{\"username\":\"AWS\",\"password\":\"mirror-password\"}}}\n")
        // The token is the mirror registry's: its region's ECR API.
        #expect(fixture.transport.requests.map(\.authority) == ["api.ecr.us-east-1.amazonaws.com"])
    }

    @Test func anUnmirroredUpstreamIsRefusedAsBefore() throws {
        let fixture = try Fixture(mirrors: ["docker.io=\(Self.r)/docker-hub"], replies: [])
        let error = #expect(throws: CredentialProviderPlugin.NoCredentials.self) { try fixture.answer(image: "quay.io/org/app") }
        #expect("\(error.map { "\($0)" } ?? "")".contains("quay.io is not an Amazon ECR registry"))
        #expect(fixture.transport.requests.isEmpty)
    }

    @Test func ecrImagesStillGetTheirOwnRegistrysToken() throws {
        let fixture = try Fixture(mirrors: ["docker.io=\(Self.r)/docker-hub"],
                                  replies: [MockTransport.ecrToken("own", expiresAt: CredentialProviderPluginTests.now + 43_200)])
        let text = try fixture.answer(image: "210987654321.dkr.ecr.eu-west-1.amazonaws.com/app")
        #expect(text.contains("\"210987654321.dkr.ecr.eu-west-1.amazonaws.com\":{\"username\":\"AWS\",\"password\":\"own\"}"))
        #expect(fixture.transport.requests.map(\.authority) == ["api.ecr.eu-west-1.amazonaws.com"])
    }

    @Test func aServiceAccountPullsTheMirrorAsItsRole() throws {
        let fixture = try Fixture(mirrors: ["docker.io=\(Self.r)/docker-hub"],
                                  replies: [CredentialProviderPluginTests.webIdentityReply,
                                            MockTransport.ecrToken("pod-password", expiresAt: CredentialProviderPluginTests.now + 43_200)])
        let token = CredentialProviderPluginTests.jwt(subject: "system:serviceaccount:shop:frontend")
        let text = try fixture.answer(image: "docker.io/library/app", extra: ",\"serviceAccountToken\":\"\(token)\","
            + "\"serviceAccountAnnotations\":{\"eks.amazonaws.com/ecr-role-arn\":\"arn:aws:iam::123456789012:role/frontend-pull\"}")
        #expect(text.contains("\"docker.io\":{\"username\":\"AWS\",\"password\":\"pod-password\"}"))
        #expect(String(decoding: fixture.transport.requests[0].body, as: UTF8.self).contains("RoleSessionName=shop.frontend"))
        #expect(fixture.transport.requests[1].header("authorization")?.contains("Credential=ASIAPOD/") == true)
    }

    // MARK: the printed CredentialProviderConfig

    @Test func thePrintedConfigMatchesTheUpstreamsAndPassesTheMappings() throws {
        var config = CredentialProviderConfig()
        config.mirrors = try MirrorMap(arguments: ["docker.io=\(Self.r)/docker-hub", "quay.io=\(Self.r)/quay"])
        let yaml = config.yaml
        #expect(yaml.contains("""
              - "*.dkr.ecr.*.amazonaws.eu"
              # Upstream registries pulled through ECR (see args)
              - "docker.io"
              - "index.docker.io"
              - "registry-1.docker.io"
              - "quay.io"
            defaultCacheDuration: "12h0m0s"
            args:
              - "--mirror"
              - "docker.io=\(Self.r)/docker-hub"
              - "--mirror"
              - "quay.io=\(Self.r)/quay"

        """))
        #expect(!CredentialProviderConfig().yaml.contains("args:"))
    }
}
