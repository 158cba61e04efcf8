// The pull check against scripted registry answers: each row of the hint table, and image references.
import Foundation
import Testing
@testable import ECRCredentials

private let host = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
private let principal = "arn:aws:sts::123456789012:assumed-role/node/i-0abc"

private func answer(_ status: Int, _ body: String = "", headers: [HTTPHeader] = []) -> MockTransport.Reply {
    .response(HTTPResponse(status: status, headers: headers, body: Array(body.utf8)))
}

private func ecrError(_ status: Int, _ code: String, _ message: String) -> MockTransport.Reply {
    answer(status, "{\"errors\":[{\"code\":\"\(code)\",\"message\":\"\(message)\"}]}")
}

private func denied(_ action: String, because: String = "because no identity-based policy allows the ACTION action") -> MockTransport.Reply {
    ecrError(403, "DENIED", "User: \(principal) is not authorized to perform: \(action) on resource: "
             + "arn:aws:ecr:us-west-2:123456789012:repository/team/app \(because.replacingOccurrences(of: "ACTION", with: action))")
}

private let configDigest = "sha256:" + String(repeating: "c", count: 64)
private let armDigest = "sha256:" + String(repeating: "a", count: 64)
private let amdDigest = "sha256:" + String(repeating: "d", count: 64)
private let index = answer(200, """
    {"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
    {"digest":"\(armDigest)","platform":{"os":"linux","architecture":"arm64"}},
    {"digest":"\(amdDigest)","platform":{"os":"linux","architecture":"amd64"}}]}
    """)
private let manifest = answer(200, "{\"schemaVersion\":2,\"config\":{\"digest\":\"\(configDigest)\"},\"layers\":[]}")
private let redirect = answer(307, headers: [HTTPHeader("Location", "https://bucket.s3.us-west-2.amazonaws.com/blob?X-Amz-Signature=abc")])

private let amd64 = RegistryCheck.Platform(os: "linux", architecture: "amd64")

private func run(_ replies: [MockTransport.Reply], image: String = "\(host)/team/app:1",
                 rules: [PullThroughCacheRule]? = nil) throws -> (PullFinding, MockTransport) {
    let transport = MockTransport(replies)
    let reader: (@Sendable (ECRRegistry) throws -> [PullThroughCacheRule])? = rules.map { rules in { @Sendable _ in rules } }
    let check = RegistryCheck(transport: transport, timeouts: HTTPTimeouts(), platform: amd64, rules: reader)
    return (check.run(image: try ImageReference(parsing: image), password: "pw", tokenRegistry: ECRRegistry(host: host)), transport)
}

@Suite struct RegistryCheckTests {
    @Test func anIndexIsFollowedToThisPlatformAndTheConfigDownload() throws {
        let (finding, transport) = try run([answer(200), answer(200), index, manifest, redirect, answer(200, "{}")])
        #expect(finding.row == .pulls && finding.step == .download && finding.hint == nil)
        let requests = transport.requests
        #expect(requests.map(\.method) == ["GET", "HEAD", "GET", "GET", "GET", "GET"])
        #expect(requests.map(\.path) == ["/v2/", "/v2/team/app/manifests/1", "/v2/team/app/manifests/1",
                                         "/v2/team/app/manifests/\(amdDigest)", "/v2/team/app/blobs/\(configDigest)", "/blob"])
        #expect(requests[0].header("Authorization") == "Basic " + Data("AWS:pw".utf8).base64EncodedString())
        #expect(requests[1].header("Accept")?.contains("application/vnd.oci.image.index.v1+json") == true)
        #expect(requests[1].header("Accept")?.contains("application/vnd.docker.distribution.manifest.v2+json") == true)
        // The signed download URL gets no token.
        #expect(requests[5].authority == "bucket.s3.us-west-2.amazonaws.com" && requests[5].header("Authorization") == nil)
        #expect(requests[5].query.first?.name == "X-Amz-Signature")
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var replies: [MockTransport.Reply]
        var row: PullFinding.Row
        var step: PullStep
        var action: String?
        var hint: String
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        Row(name: "401", replies: [ecrError(401, "UNAUTHORIZED", "Not Authorized")], row: .tokenRefused, step: .registry, action: nil,
            hint: "was still refused: it expired or its credentials were revoked"),
        Row(name: "BatchGetImage", replies: [answer(200), answer(403), denied("ecr:BatchGetImage")], row: .pullOnly, step: .manifest,
            action: "ecr:BatchGetImage", hint: "\(principal) needs ecr:BatchGetImage: attach the managed policy AmazonEC2ContainerRegistryPullOnly"),
        Row(name: "GetDownloadUrlForLayer", replies: [answer(200), answer(200), manifest, denied("ecr:GetDownloadUrlForLayer")],
            row: .pullOnly, step: .configBlob, action: "ecr:GetDownloadUrlForLayer", hint: "needs ecr:GetDownloadUrlForLayer: attach"),
        Row(name: "repository policy", replies: [answer(200), answer(403), denied("ecr:BatchGetImage", because: "with an explicit deny in a resource-based policy")],
            row: .repositoryPolicy, step: .manifest, action: "ecr:BatchGetImage",
            hint: "the repository policy of team/app denies ecr:BatchGetImage to \(principal)"),
        Row(name: "pull-through import", replies: [answer(200), answer(403), denied("ecr:BatchImportUpstreamImage")], row: .pullThrough,
            step: .manifest, action: "ecr:BatchImportUpstreamImage",
            hint: "allow ecr:CreateRepository on arn:aws:ecr:us-west-2:123456789012:repository/team/*"),
        Row(name: "pull-through create", replies: [answer(200), answer(403), denied("ecr:CreateRepository")], row: .pullThrough,
            step: .manifest, action: "ecr:CreateRepository", hint: "needs ecr:CreateRepository for a first pull through the pull-through cache"),
        Row(name: "KMS", replies: [answer(200), answer(200), manifest, denied("kms:Decrypt")], row: .kmsKey, step: .configBlob,
            action: "kms:Decrypt", hint: "encrypted with a KMS key that does not let \(principal) use kms:Decrypt"),
        Row(name: "other action", replies: [answer(200), answer(403), denied("ecr:DescribeImages")], row: .otherAction, step: .manifest,
            action: "ecr:DescribeImages", hint: "\(principal) needs ecr:DescribeImages on"),
        Row(name: "no repository", replies: [answer(200), answer(404), ecrError(404, "NAME_UNKNOWN", "The repository with name 'team/app' does not exist in the registry with id '123456789012'")],
            row: .noRepository, step: .manifest, action: nil, hint: "no pull-through cache rule has the prefix team (the rules: docker-hub)"),
        Row(name: "no tag", replies: [answer(200), answer(404), ecrError(404, "MANIFEST_UNKNOWN", "Requested image not found")],
            row: .noImage, step: .manifest, action: nil, hint: "push team/app:1"),
        Row(name: "no platform", replies: [answer(200), answer(200), answer(200, "{\"manifests\":[{\"digest\":\"\(armDigest)\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\"}}]}")],
            row: .noPlatform, step: .manifest, action: nil, hint: "push an image for this platform"),
        Row(name: "TLS", replies: [.failure(HTTPTransportError(.tls, url: "https://\(host)/v2/", detail: "unknown CA"))], row: .tls,
            step: .registry, action: nil, hint: "set AWS_CA_BUNDLE"),
        Row(name: "timeout", replies: [answer(200), .failure(HTTPTransportError(.timedOut, url: "https://\(host)/v2/", detail: "5000 ms"))],
            row: .timeout, step: .manifest, action: nil, hint: "check the network and proxies (HTTPS_PROXY)"),
        Row(name: "throttled", replies: [answer(200), answer(429), ecrError(429, "TOOMANYREQUESTS", "slow down")], row: .unexpected,
            step: .manifest, action: nil, hint: "a passing failure"),
        Row(name: "download refused", replies: [answer(200), answer(200), manifest, redirect,
                                                answer(403, "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>")],
            row: .unexpected, step: .download, action: nil, hint: "answered in a way a pull does not expect"),
    ]

    @Test(arguments: rows) func eachAnswerHasItsRow(_ row: Row) throws {
        let (finding, _) = try run(row.replies, rules: [PullThroughCacheRule(ecrRepositoryPrefix: "docker-hub", upstreamRegistryURL: "registry-1.docker.io")])
        #expect(finding.row == row.row)
        #expect(finding.step == row.step)
        #expect(finding.action == row.action)
        #expect(finding.hint?.contains(row.hint) == true, "\(finding.hint ?? "nil")")
    }

    @Test func aMissingRepositoryUnderARuleSaysTheRuleExists() throws {
        let replies = [answer(200), answer(404), ecrError(404, "NAME_UNKNOWN", "The repository with name 'docker-hub/library/app' does not exist")]
        let (finding, _) = try run(replies, image: "\(host)/docker-hub/library/app:1",
                                   rules: [PullThroughCacheRule(ecrRepositoryPrefix: "docker-hub", upstreamRegistryURL: "registry-1.docker.io")])
        #expect(finding.rules == .rule(PullThroughCacheRule(ecrRepositoryPrefix: "docker-hub", upstreamRegistryURL: "registry-1.docker.io")))
        #expect(finding.hint?.contains("under the pull-through cache rule docker-hub -> registry-1.docker.io") == true)
        #expect(finding.summary.contains("\"The repository with name 'docker-hub/library/app' does not exist\""))
    }

    @Test func aTokenOfAnotherRegionIsNamed() throws {
        let transport = MockTransport([ecrError(401, "UNAUTHORIZED", "Not Authorized")])
        let check = RegistryCheck(transport: transport, timeouts: HTTPTimeouts(), platform: amd64)
        let finding = check.run(image: try ImageReference(parsing: "\(host)/team/app"), password: "pw",
                                tokenRegistry: ECRRegistry(host: "123456789012.dkr.ecr.eu-west-1.amazonaws.com"))
        #expect(finding.hint?.contains("issued for 123456789012.dkr.ecr.eu-west-1.amazonaws.com (region eu-west-1), but the image is in \(host) (region us-west-2)") == true)
    }

    @Test func ecrsMessageIsPrintedWithoutControls() throws {
        let (finding, _) = try run([answer(200), answer(404), ecrError(404, "MANIFEST_UNKNOWN", "gone\\u001b[2J")])
        #expect(!finding.summary.unicodeScalars.contains { $0.value == 0x1B })
    }

    @Test(arguments: [
        ("nginx", "docker.io/library/nginx:latest"),
        ("\(host)/team/app", "\(host)/team/app:latest"),
        ("\(host)/team/app:1.2", "\(host)/team/app:1.2"),
        ("\(host)/team/app@sha256:\(String(repeating: "0", count: 64))", "\(host)/team/app@sha256:\(String(repeating: "0", count: 64))"),
        ("localhost:5000/app:v1", "localhost:5000/app:v1"),
        ("quay.io/org/app:1", "quay.io/org/app:1"),
    ]) func referencesAreNormalisedAsDockerDoes(_ input: String, _ expected: String) throws {
        #expect(try ImageReference(parsing: input).description == expected)
    }

    @Test(arguments: ["", "https://\(host)/app", "\(host)/Team/app", "\(host)/app:-x", "\(host)/app@sha256:xyz", "\(host)/a//b"])
    func badReferencesAreRefused(_ input: String) {
        #expect(throws: ImageReference.ParseError.self) { try ImageReference(parsing: input) }
    }

    @Test func mirroredImagesAreFollowedToTheECRRepository() throws {
        let map = try MirrorMap(arguments: ["docker.io=\(host)/docker-hub"])
        let (image, mirror) = try ImageReference(parsing: "nginx:1").following(map)
        #expect(image.description == "\(host)/docker-hub/library/nginx:1" && mirror?.prefix == "docker-hub")
    }

    @Test(arguments: [
        ("User: A is not authorized to perform: ecr:BatchGetImage on resource: R because no identity-based policy allows the ecr:BatchGetImage action",
         ECRDenial.Cause.noIdentityPolicy),
        ("User: A is not authorized to perform: ecr:BatchGetImage on resource: R with an explicit deny in a resource-based policy", .resourcePolicyDenies),
        ("User: A is not authorized to perform: ecr:BatchGetImage on resource: R because no resource-based policy allows the ecr:BatchGetImage action",
         .noResourcePolicy),
        ("User: A is not authorized to perform: ecr:BatchGetImage on resource: R with an explicit deny in a service control policy", .guardrail),
        ("Access denied", .unknown),
    ]) func denialsAreRead(_ message: String, _ cause: ECRDenial.Cause) {
        let denial = ECRDenial(message: message)
        #expect(denial.cause == cause)
        if cause != .unknown {
            #expect(denial.principal == "A" && denial.action == "ecr:BatchGetImage" && denial.resource == "R")
        }
    }
}

@Suite struct PullCheckRedactionTests {
    @Test func aPasswordEchoedInEveryFormIsRedacted() throws {
        // A password with '/' near its end: its JSON-escaped form must not be redacted first.
        let password = "eyJwYXlsb2FkIjogImFiYyJ9abcdefghij/klmnopqrstu/vw=="
        let basic = Data("AWS:\(password)".utf8).base64EncodedString()
        let text = "raw=\(password) basic=Basic \(basic) b64=\(basic) half=\(password.prefix(password.count / 2)) key=AKIAIOSFODNN7EXAMPLE id=AKIAEMULATOR"
        var finding = PullFinding(row: .otherAction, step: .manifest, image: try ImageReference(parsing: "\(host)/team/app:1"),
                                  httpStatus: 403, errorCode: "DENIED", errorMessage: text)
        finding.redact(RegistryCheck.sentForms(of: password))
        #expect(finding.errorMessage == "raw=<redacted> basic=<redacted> b64=<redacted> half=<redacted> key=<redacted> id=AKIAEMULATOR")
    }

    @Test func environmentSecretsAreTheSecretValuesNotKeyIDs() {
        let secrets = RegistryCheck.secrets(in: ["AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI", "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
                                                 "GITHUB_TOKEN": "ghp_0123456789", "DB_PASSWORD": "short", "PATH": "/usr/bin:/bin"])
        #expect(secrets == ["ghp_0123456789", "wJalrXUtnFEMI"])
    }

    @Test(arguments: [("https://user:pw@host/x", true), ("https://host/x?a=b@c", false), ("https://@host/", true), ("https://host", false)])
    func userInfoInALocation(location: String, has: Bool) {
        #expect(RegistryCheck.hasUserInfo(location) == has)
        if has { #expect(RegistryCheck.downloadRequest(location) == nil) }
    }
}
