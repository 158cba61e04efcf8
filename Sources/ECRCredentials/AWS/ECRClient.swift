// Amazon ECR and ECR Public GetAuthorizationToken.

/// A registry password issued by ECR, with its expiry.
package struct AuthorizationToken: Sendable, Equatable {
    /// The user name, always `AWS` for ECR.
    package var username: String
    /// The password docker sends to the registry.
    package var password: String
    /// When ECR stops accepting it (12 hours after issue).
    package var expiresAt: Timestamp

    package init(username: String, password: String, expiresAt: Timestamp) {
        self.username = username
        self.password = password
        self.expiresAt = expiresAt
    }
}

/// Fetches authorization tokens from ECR (private registries) and ECR Public.
package struct ECRClient: Sendable {
    /// Why a token could not be read out of a successful answer.
    package struct MalformedReply: Error, Sendable, CustomStringConvertible {
        /// The service that answered.
        package var service: String
        /// What was wrong with the answer.
        package var reason: String
        /// For example "ECR returned an unusable GetAuthorizationToken reply: no authorizationData".
        package var description: String { "\(service) returned an unusable GetAuthorizationToken reply: \(reason)" }
    }

    let sender: AWSRequestSender
    let endpoints: EndpointResolver

    package init(sender: AWSRequestSender, endpoints: EndpointResolver) {
        self.sender = sender
        self.endpoints = endpoints
    }

    /// The same client, retrying throttled calls with `backoff` (nil: like any passing fault).
    package func retryingThrottling(_ backoff: ThrottlingBackoff?) -> ECRClient {
        var sender = self.sender
        sender.retry.throttling = backoff
        return ECRClient(sender: sender, endpoints: endpoints)
    }

    /// The endpoint that issues tokens for `registry`.
    package func endpoint(for registry: ECRRegistry) throws -> Endpoint {
        switch registry.kind {
        case .privateRegistry:
            let host = registry.partition.ecrAPIHost(region: registry.region, fips: registry.fips, dualStack: registry.dualStack)
            return try endpoints.endpoint(for: .ecr, standardHost: host)
        case .publicRegistry:
            return try endpoints.endpoint(for: .ecrPublic, standardHost: "api.ecr-public.us-east-1.amazonaws.com")
        }
    }

    /// Calls GetAuthorizationToken for the registry's region (signing name `ecr`), or ECR Public's
    /// (us-east-1, signing name `ecr-public`).
    /// - Throws: `AWSServiceError` (with advice for denied access), `HTTPTransportError`, `MalformedReply`.
    package func authorizationToken(for registry: ECRRegistry, credentials: AWSCredentials) throws -> AuthorizationToken {
        let isPublic = registry.kind == .publicRegistry
        let service = isPublic ? "ECR Public" : "ECR"
        let target = isPublic ? "SpencerFrontendService.GetAuthorizationToken"
            : "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
        let request = HTTPRequest(
            method: "POST", endpoint: try endpoint(for: registry),
            headers: [HTTPHeader("Content-Type", "application/x-amz-json-1.1"), HTTPHeader("X-Amz-Target", target)],
            body: Array("{}".utf8))
        let signer = SigV4Signer(service: isPublic ? "ecr-public" : "ecr", region: registry.region)
        let response: HTTPResponse
        do {
            response = try sender.send(request, signer: signer, credentials: credentials,
                                       service: service, operation: "GetAuthorizationToken")
        } catch var error as AWSServiceError where error.code == "AccessDeniedException" || error.code == "AccessDenied" {
            error.advice = Self.accessDeniedAdvice(message: error.message, isPublic: isPublic)
            throw error
        }
        return try Self.decode(response.body, isPublic: isPublic, service: service)
    }

    static func accessDeniedAdvice(message: String, isPublic: Bool) -> String {
        let principal = principal(in: message).map { " for \($0)" } ?? ""
        if isPublic {
            return "ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken were denied\(principal); "
                + "attach the managed policy AmazonElasticContainerRegistryPublicReadOnly or a policy allowing both"
        }
        return "ecr:GetAuthorizationToken was denied\(principal); attach the managed policy "
            + "AmazonEC2ContainerRegistryPullOnly (or a policy allowing ecr:GetAuthorizationToken); pulls through a "
            + "pull-through cache repository also need ecr:BatchImportUpstreamImage, which AmazonEC2ContainerRegistryReadOnly lacks"
    }

    /// The ARN in "User: arn:aws:... is not authorized ...", if present.
    static func principal(in message: String) -> String? {
        guard let start = message.firstRange(ofText: "arn:") else { return nil }
        let arn = message[start.lowerBound...].prefix { $0 != " " && $0 != "," && $0 != "\"" }
        return arn.isEmpty ? nil : String(arn)
    }

    static func decode(_ body: [UInt8], isPublic: Bool, service: String) throws -> AuthorizationToken {
        let data: AuthorizationData
        do {
            if isPublic {
                data = try JSONInput.decode(PublicReply.self, from: body).authorizationData
            } else {
                guard let first = try JSONInput.decode(PrivateReply.self, from: body).authorizationData.first else {
                    throw MalformedReply(service: service, reason: "no authorizationData")
                }
                data = first
            }
        } catch let error as MalformedReply {
            throw error
        } catch {
            throw MalformedReply(service: service, reason: "not the expected JSON")
        }
        guard let decoded = Base64.decode(data.authorizationToken.utf8),
              let text = String(validating: decoded, as: UTF8.self),
              let colon = text.firstIndex(of: ":")
        else { throw MalformedReply(service: service, reason: "authorizationToken is not base64 of user:password") }
        let username = String(text[..<colon])
        let password = String(text[text.index(after: colon)...])
        guard !username.isEmpty, !password.isEmpty else {
            throw MalformedReply(service: service, reason: "empty user name or password in authorizationToken")
        }
        guard let expiresAt = EpochSeconds.validated(data.expiresAt) else {
            throw MalformedReply(service: service, reason: "expiresAt is not a time between 1970 and 9999")
        }
        return AuthorizationToken(username: username, password: password, expiresAt: Timestamp(timeIntervalSince1970: expiresAt))
    }

    private struct AuthorizationData: Decodable {
        var authorizationToken: String
        var expiresAt: Double
    }

    private struct PrivateReply: Decodable {
        var authorizationData: [AuthorizationData]
    }

    private struct PublicReply: Decodable {
        var authorizationData: AuthorizationData
    }
}
