// Credentials of the EC2 instance role, from the instance metadata service (IMDSv2).

/// The EC2 instance metadata service: a session token (`PUT /latest/api/token`), the role name,
/// then the role's credentials.
///
/// Off EC2 this must cost next to nothing: each request may take 1 s at most and nothing is
/// retried. A refused connection ends it at once; a token request that times out (the answer
/// cannot come back through a container's extra network hop) is followed by one IMDSv1 try,
/// unless `AWS_EC2_METADATA_V1_DISABLED` is true. So an endpoint that never answers costs
/// about 2 s, where the AWS Go helper spends 18.
package struct InstanceMetadataCredentialProvider: CredentialProvider {
    /// Where the metadata service is.
    package let endpoint: Endpoint
    /// Whether IMDSv1 (no token) may be used when the token request fails.
    package let allowsV1: Bool
    /// "EC2 instance metadata (http://169.254.169.254)".
    package var name: String { "EC2 instance metadata (\(endpoint))" }
    private let transport: any HTTPTransport
    private let timeouts = HTTPTimeouts(connect: 1, total: 1)

    /// Builds the provider unless `AWS_EC2_METADATA_DISABLED` is true.
    /// Endpoint: `AWS_EC2_METADATA_SERVICE_ENDPOINT`, else by `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE`
    /// (`IPv4`: `http://169.254.169.254`, `IPv6`: `http://[fd00:ec2::254]`).
    /// - Throws: `CredentialError` for a bad endpoint or mode.
    package static func fromEnvironment(_ context: CredentialContext) throws -> InstanceMetadataCredentialProvider? {
        let environment = context.environment
        guard !environment.isTrue("AWS_EC2_METADATA_DISABLED") else { return nil }
        let endpoint: Endpoint
        do {
            if let url = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] {
                endpoint = try Endpoint(parsing: url)
            } else {
                switch environment["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"]?.lowercased() {
                case nil, "ipv4": endpoint = Endpoint(scheme: "http", authority: "169.254.169.254", basePath: "")
                case "ipv6": endpoint = Endpoint(scheme: "http", authority: "[fd00:ec2::254]", basePath: "")
                case let mode?:
                    throw CredentialError(.invalidConfiguration, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=\(mode) is not IPv4 or IPv6")
                }
            }
        } catch let error as Endpoint.ParseError {
            throw CredentialError(.invalidConfiguration, "AWS_EC2_METADATA_SERVICE_ENDPOINT: \(error)")
        }
        return InstanceMetadataCredentialProvider(endpoint: endpoint, allowsV1: !environment.isTrue("AWS_EC2_METADATA_V1_DISABLED"),
                                                  transport: context.sender.transport)
    }

    init(endpoint: Endpoint, allowsV1: Bool, transport: any HTTPTransport) {
        self.endpoint = endpoint
        self.allowsV1 = allowsV1
        self.transport = transport
    }

    /// The metadata endpoint: the instance's role is the identity, and it is not known without a call.
    package var identity: String { "imds\0\(endpoint)" }

    package func credentials() throws -> AWSCredentials {
        let token = try sessionToken()
        let roles = try get("/latest/meta-data/iam/security-credentials/", token: token, what: "the role name")
        guard let role = roles.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }).first.map(String.init), !role.isEmpty else {
            throw CredentialError(.providerFailed, "\(name): this EC2 instance has no IAM role (instance profile)")
        }
        guard Self.isHeaderSafe(role), !role.contains("/"), role != ".", role != ".." else {
            throw CredentialError(.providerFailed, "\(name): the role name it gave is not a valid IAM role name")
        }
        let body = try get("/latest/meta-data/iam/security-credentials/\(role)", token: token, what: "the credentials of role \(role)")
        return try ContainerCredentialProvider.decode(Array(body.utf8), source: "\(name), role \(role)")
    }

    /// The IMDSv2 session token; nil when falling back to IMDSv1.
    private func sessionToken() throws -> String? {
        let request = HTTPRequest(method: "PUT", endpoint: endpoint, path: "/latest/api/token",
                                  headers: [HTTPHeader("x-aws-ec2-metadata-token-ttl-seconds", "21600")])
        do {
            let response = try transport.send(request, timeouts: timeouts)
            switch response.status {
            case 200:
                let token = String(decoding: response.body, as: UTF8.self).trimmingASCIIWhitespace()
                guard Self.isHeaderSafe(token) else {
                    throw CredentialError(.providerFailed, "\(name): the session token is not a valid header value")
                }
                return token
            case 403, 404, 405:
                if allowsV1 { return nil }  // IMDSv2 unavailable here; IMDSv1 may answer
                throw CredentialError(.providerFailed, "\(name): the session token request was answered with HTTP \(response.status) and IMDSv1 is disabled (AWS_EC2_METADATA_V1_DISABLED)")
            default:
                throw CredentialError(.providerFailed, "\(name): the session token request was answered with HTTP \(response.status)",
                                      underlying: HTTPStatusError(url: request.url, status: response.status))
            }
        } catch let error as HTTPTransportError where error.code == .timedOut && allowsV1 {
            return nil  // most likely the hop limit: the answer cannot reach a container; IMDSv1 may
        } catch let error as HTTPTransportError {
            throw CredentialError(.providerFailed, "no credentials from \(name): \(error.detail)", underlying: error)
        }
    }

    /// Whether text from the metadata service may go into a header or a path segment: 1 to 4096
    /// visible ASCII characters (no CR, LF, NUL, space or other control; a hostile service
    /// cannot inject headers).
    static func isHeaderSafe(_ text: String) -> Bool {
        (1...4096).contains(text.utf8.count) && text.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }

    private func get(_ path: String, token: String?, what: String) throws -> String {
        var request = HTTPRequest(method: "GET", endpoint: endpoint, path: path)
        if let token { request.headers.append(HTTPHeader("x-aws-ec2-metadata-token", token)) }
        let response: HTTPResponse
        do {
            response = try transport.send(request, timeouts: timeouts)
        } catch let error as HTTPTransportError {
            throw CredentialError(.providerFailed, "no credentials from \(name): \(error.detail)", underlying: error)
        }
        switch response.status {
        case 200:
            return String(decoding: response.body, as: UTF8.self)
        case 404:
            throw CredentialError(.providerFailed, "\(name): this EC2 instance has no IAM role (instance profile)")
        case 401 where token == nil:
            throw CredentialError(.providerFailed, "\(name): IMDSv1 is disabled on this instance and the IMDSv2 token request failed (raise the metadata hop limit to 2 for containers)")
        default:
            throw CredentialError(.providerFailed, "\(name): \(what) was answered with HTTP \(response.status)",
                                  underlying: HTTPStatusError(url: request.url, status: response.status))
        }
    }
}
