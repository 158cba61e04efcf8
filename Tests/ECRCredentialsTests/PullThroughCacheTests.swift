// DescribePullThroughCacheRules: paging, the upstream names images use, and the mirrors made from the rules.
import ECRCredentials
import Foundation
import Testing

@Suite struct PullThroughCacheTests {
    static let registry = ECRClientTests.registry

    static func page(_ rules: [(String, String)], next: String?) -> MockTransport.Reply {
        let items = rules.map { "{\"ecrRepositoryPrefix\":\"\($0.0)\",\"upstreamRegistryUrl\":\"\($0.1)\",\"registryId\":\"123456789012\","
            + "\"upstreamRegistry\":\"x\",\"createdAt\":1.7E9,\"updatedAt\":1.7E9}" }
        let token = next.map { ",\"nextToken\":\"\($0)\"" } ?? ""
        return .response(HTTPResponse(status: 200, body: Array("{\"pullThroughCacheRules\":[\(items.joined(separator: ","))]\(token)}".utf8)))
    }

    @Test func everyPageIsReadFollowingNextToken() throws {
        let transport = MockTransport([
            Self.page([("docker-hub", "registry-1.docker.io"), ("quay", "quay.io")], next: "t1"),
            Self.page([("k8s", "registry.k8s.io")], next: "t2"),
            Self.page([], next: nil),
        ])
        let rules = try ECRClientTests.client(transport).pullThroughCacheRules(for: Self.registry, credentials: ECRClientTests.credentials)
        #expect(rules.map(\.ecrRepositoryPrefix) == ["docker-hub", "quay", "k8s"])
        let bodies = transport.requests.map { String(decoding: $0.body, as: UTF8.self) }
        #expect(bodies == ["{\"registryId\":\"123456789012\",\"maxResults\":1000}",
                           "{\"registryId\":\"123456789012\",\"maxResults\":1000,\"nextToken\":\"t1\"}",
                           "{\"registryId\":\"123456789012\",\"maxResults\":1000,\"nextToken\":\"t2\"}"])
        #expect(transport.requests.allSatisfy {
            $0.header("x-amz-target") == "AmazonEC2ContainerRegistry_V20150921.DescribePullThroughCacheRules"
                && $0.url == "https://api.ecr.eu-west-1.amazonaws.com/"
                && $0.header("authorization")?.contains("/eu-west-1/ecr/aws4_request") == true
        })
    }

    @Test func aRepeatingNextTokenIsAnError() {
        let transport = MockTransport([Self.page([], next: "same"), Self.page([], next: "same")])
        #expect(throws: ECRClient.MalformedReply.self) {
            try ECRClientTests.client(transport).pullThroughCacheRules(for: Self.registry, credentials: ECRClientTests.credentials)
        }
    }

    @Test func accessDeniedNamesTheAction() {
        let transport = MockTransport([MockTransport.error(400, "AccessDeniedException",
            "User: arn:aws:iam::123456789012:user/ops is not authorized to perform: ecr:DescribePullThroughCacheRules")])
        let error = #expect(throws: AWSServiceError.self) {
            try ECRClientTests.client(transport).pullThroughCacheRules(for: Self.registry, credentials: ECRClientTests.credentials)
        }
        #expect(error?.advice?.hasPrefix("ecr:DescribePullThroughCacheRules was denied for arn:aws:iam::123456789012:user/ops;") == true)
    }

    @Test(arguments: [
        ("registry-1.docker.io", "docker.io"), ("https://registry-1.docker.io", "docker.io"), ("public.ecr.aws", "public.ecr.aws"),
        ("quay.io", "quay.io"), ("registry.k8s.io", "registry.k8s.io"), ("ghcr.io", "ghcr.io"),
        ("registry.gitlab.com", "registry.gitlab.com"), ("myregistry.azurecr.io", "myregistry.azurecr.io"),
        ("210987654321.dkr.ecr.eu-west-1.amazonaws.com", "210987654321.dkr.ecr.eu-west-1.amazonaws.com"),
    ])
    func upstreamURLsBecomeTheHostsImagesName(url: String, host: String) {
        #expect(PullThroughCacheRule(ecrRepositoryPrefix: "p", upstreamRegistryURL: url).upstreamHost == host)
    }

    /// A rule for an upstream ECR does not cache (a hostile or broken answer) is left out, so
    /// that `_default` or an arbitrary host never becomes a mirror.
    @Test(arguments: ["_default", "evil.example", "localhost:5000", "public.ecr.aws.evil.example", "a.b.azurecr.io", "azurecr.io"])
    func rulesForUpstreamsECRDoesNotCacheAreLeftOut(url: String) {
        var map = MirrorMap()
        let notes = map.add(rules: [PullThroughCacheRule(ecrRepositoryPrefix: "x", upstreamRegistryURL: url)], of: Self.registry)
        #expect(map.mirrors.isEmpty)
        #expect(notes.count == 1)
    }

    @Test func rulesBecomeMirrorsAndHandGivenOnesWin() throws {
        var map = try MirrorMap(arguments: ["quay.io=\(Self.registry.host)/my-quay"])
        let notes = map.add(rules: [
            PullThroughCacheRule(ecrRepositoryPrefix: "docker-hub", upstreamRegistryURL: "registry-1.docker.io"),
            PullThroughCacheRule(ecrRepositoryPrefix: "quay", upstreamRegistryURL: "quay.io"),
            PullThroughCacheRule(ecrRepositoryPrefix: "ROOT", upstreamRegistryURL: "210987654321.dkr.ecr.eu-west-1.amazonaws.com"),
        ], of: Self.registry)
        #expect(map.arguments == ["quay.io=\(Self.registry.host)/my-quay", "docker.io=\(Self.registry.host)/docker-hub",
                                  "210987654321.dkr.ecr.eu-west-1.amazonaws.com=\(Self.registry.host)"])
        #expect(notes.count == 1 && notes[0].contains("left out the rule quay -> quay.io") && notes[0].contains("quay.io already has a mirror"))
    }
}
