// GetAuthorizationToken requests, replies, retries and error advice.
import ECRCredentials
import Foundation
import Testing

@Suite struct ECRClientTests {
    static let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "secret")
    static let registry = ECRRegistry(host: "123456789012.dkr.ecr.eu-west-1.amazonaws.com")!

    static func client(_ transport: MockTransport, clock: ManualClock = ManualClock(), environment: [String: String] = [:]) -> ECRClient {
        ECRClient(sender: AWSRequestSender(transport: transport, clock: clock), endpoints: EndpointResolver(environment: Environment(environment)))
    }

    @Test func privateRegistryRequest() throws {
        let transport = MockTransport([MockTransport.ecrToken("pw", expiresAt: 1_800_043_200.5)])
        let token = try Self.client(transport).authorizationToken(for: Self.registry, credentials: Self.credentials)
        #expect(token == AuthorizationToken(username: "AWS", password: "pw", expiresAt: Timestamp(timeIntervalSince1970: 1_800_043_200.5)))
        let request = try #require(transport.requests.first)
        #expect(request.url == "https://api.ecr.eu-west-1.amazonaws.com/")
        #expect(request.method == "POST")
        #expect(request.body == Array("{}".utf8))
        #expect(request.header("x-amz-target") == "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken")
        #expect(request.header("content-type") == "application/x-amz-json-1.1")
        #expect(request.header("authorization")?.contains("/eu-west-1/ecr/aws4_request") == true)
    }

    @Test func publicRegistryRequest() throws {
        let transport = MockTransport([MockTransport.ecrToken("pub", expiresAt: 1_800_043_200, isPublic: true)])
        let token = try Self.client(transport).authorizationToken(for: ECRRegistry(host: "public.ecr.aws")!, credentials: Self.credentials)
        #expect(token.password == "pub")
        let request = try #require(transport.requests.first)
        #expect(request.url == "https://api.ecr-public.us-east-1.amazonaws.com/")
        #expect(request.header("x-amz-target") == "SpencerFrontendService.GetAuthorizationToken")
        #expect(request.header("authorization")?.contains("/us-east-1/ecr-public/aws4_request") == true)
    }

    @Test func endpointOverridesKeepTheSigningRegion() throws {
        let transport = MockTransport([MockTransport.ecrToken("pw", expiresAt: 1)])
        _ = try Self.client(transport, environment: ["AWS_ENDPOINT_URL": "http://127.0.0.1:1/", "AWS_ENDPOINT_URL_ECR": "http://127.0.0.1:5000"])
            .authorizationToken(for: Self.registry, credentials: Self.credentials)
        #expect(transport.requests.first?.url == "http://127.0.0.1:5000/")
        #expect(transport.requests.first?.header("authorization")?.contains("/eu-west-1/ecr/") == true)
        let ignored = MockTransport([MockTransport.ecrToken("pw", expiresAt: 1)])
        _ = try Self.client(ignored, environment: ["AWS_ENDPOINT_URL_ECR": "http://127.0.0.1:5000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"])
            .authorizationToken(for: Self.registry, credentials: Self.credentials)
        #expect(ignored.requests.first?.url == "https://api.ecr.eu-west-1.amazonaws.com/")
    }

    @Test func retriesThrottlingAndServerErrorsThenSucceeds() throws {
        let clock = ManualClock()
        let transport = MockTransport([
            MockTransport.error(400, "ThrottlingException", "Rate exceeded"),
            .response(HTTPResponse(status: 503, body: Array("<html>busy</html>".utf8))),
            MockTransport.ecrToken("pw", expiresAt: 1),
        ])
        let token = try Self.client(transport, clock: clock).authorizationToken(for: Self.registry, credentials: Self.credentials)
        #expect(token.password == "pw")
        #expect(transport.requests.count == 3)
        #expect(clock.slept.count == 2)
        #expect(clock.slept.allSatisfy { $0 >= 0 && $0 < 2 })
    }

    @Test func givesUpAfterThreeAttempts() {
        let transport = MockTransport([.failure(HTTPTransportError(.connectionFailed, url: "u", detail: "refused")),
                                       .failure(HTTPTransportError(.other, url: "u", detail: "reset")),
                                       .failure(HTTPTransportError(.connectionFailed, url: "u", detail: "refused")),
                                       MockTransport.ecrToken("never", expiresAt: 1)])
        #expect(throws: HTTPTransportError.self) {
            try Self.client(transport).authorizationToken(for: Self.registry, credentials: Self.credentials)
        }
        #expect(transport.requests.count == 3)
    }

    @Test func anAttemptThatTimedOutIsNotRepeated() {
        let transport = MockTransport([.failure(HTTPTransportError(.timedOut, url: "u", detail: "slow")),
                                       MockTransport.ecrToken("never", expiresAt: 1)])
        let error = #expect(throws: HTTPTransportError.self) {
            try Self.client(transport).authorizationToken(for: Self.registry, credentials: Self.credentials)
        }
        #expect(error?.code == .timedOut && error?.isTransient == true)  // passing: a cached token may be served
        #expect(transport.requests.count == 1)
    }

    @Test func accessDeniedIsNotRetriedAndNamesThePrincipalAndPolicy() {
        let message = "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action"
        let transport = MockTransport([MockTransport.error(400, "AccessDeniedException", message)])
        #expect {
            try Self.client(transport).authorizationToken(for: Self.registry, credentials: Self.credentials)
        } throws: { error in
            let text = "\(error)"
            return text.contains("ecr:GetAuthorizationToken was denied for arn:aws:iam::123456789012:user/ci")
                && text.contains("AmazonEC2ContainerRegistryPullOnly")
        }
        #expect(transport.requests.count == 1)
    }

    @Test(arguments: [
        ("UnrecognizedClientException", "The security token included in the request is invalid.", "AWS does not know this access key id"),
        ("InvalidSignatureException", "The request signature we calculated does not match", "the secret access key does not match"),
        ("InvalidSignatureException", "Signature expired: 20150830T123600Z is now earlier than ...", "the system clock is wrong"),
        ("ExpiredTokenException", "The security token included in the request is expired", "the session credentials have expired"),
    ])
    func finalErrorsExplainThemselves(code: String, message: String, advice: String) {
        let transport = MockTransport([MockTransport.error(400, code, message)])
        #expect {
            try Self.client(transport).authorizationToken(for: Self.registry, credentials: Self.credentials)
        } throws: { error in
            "\(error)".contains(advice) && "\(error)".contains(code)
        }
        #expect(transport.requests.count == 1)
    }

    @Test func xmlErrorsAreUnderstood() {
        let xml = "<ErrorResponse><Error><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/x is not authorized &amp; so on</Message></Error></ErrorResponse>"
        let transport = MockTransport([.response(HTTPResponse(status: 403, body: Array(xml.utf8)))])
        #expect {
            try Self.client(transport).authorizationToken(for: Self.registry, credentials: Self.credentials)
        } throws: { error in
            (error as? AWSServiceError)?.code == "AccessDenied" && "\(error)".contains("not authorized & so on")
                && "\(error)".contains("arn:aws:iam::123456789012:user/x")
        }
    }

    @Test(arguments: ["not json", "{}", "{\"authorizationData\":[]}", "{\"authorizationData\":[{\"authorizationToken\":\"!!!\",\"expiresAt\":1}]}",
                      "{\"authorizationData\":[{\"authorizationToken\":\"bm9jb2xvbg==\",\"expiresAt\":1}]}"])
    func malformedRepliesAreReported(body: String) {
        let transport = MockTransport([.response(HTTPResponse(status: 200, body: Array(body.utf8)))])
        #expect(throws: ECRClient.MalformedReply.self) {
            try Self.client(transport).authorizationToken(for: Self.registry, credentials: Self.credentials)
        }
    }
}
