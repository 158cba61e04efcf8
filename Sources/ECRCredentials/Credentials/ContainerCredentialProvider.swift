// Credentials from the ECS task or EKS Pod Identity agent endpoint.

/// The container credentials endpoint: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (ECS) or
/// `AWS_CONTAINER_CREDENTIALS_FULL_URI` (EKS Pod Identity, local agents), with the
/// `Authorization` header from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (re-read every call) or
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
package struct ContainerCredentialProvider: CredentialProvider {
    /// The credentials URL.
    package let endpoint: Endpoint
    /// The path of the URL.
    package let path: String
    /// A file with the authorization token.
    package let tokenFile: String?
    /// An authorization token given directly.
    package let token: String?
    /// "container credentials (http://...)", without the query string (it may carry a secret).
    package var name: String { "container credentials (\(endpoint)\(Self.withoutQuery(path)))" }
    private let sender: AWSRequestSender

    /// Addresses plain HTTP may go to besides loopback: the ECS agent, the EKS Pod Identity agent.
    static let allowedHTTPAddresses: Set<IPAddress> = Set(["169.254.170.2", "169.254.170.23", "fd00:ec2::23"].compactMap(IPAddress.init))

    /// Whether plain HTTP may go to `host`: the name `localhost`, or an address literal that is
    /// loopback (127.0.0.0/8, ::1) or an agent's. A name that merely starts like one is refused.
    static func allowsPlainHTTP(to host: String) -> Bool {
        if host.lowercased() == "localhost" { return true }
        guard let address = IPAddress(host) else { return false }
        return address.isLoopback || allowedHTTPAddresses.contains(address)
    }

    /// A URL or path without its query string and fragment.
    static func withoutQuery(_ text: String) -> Substring {
        text[..<(text.firstIndex(where: { $0 == "?" || $0 == "#" }) ?? text.endIndex)]
    }

    /// Builds the provider the environment configures; nil when none is.
    /// - Throws: `CredentialError` for a URL that is not allowed.
    package static func fromEnvironment(_ context: CredentialContext) throws -> ContainerCredentialProvider? {
        let environment = context.environment
        var url: String
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] {
            url = "http://169.254.170.2" + (relative.hasPrefix("/") ? relative : "/" + relative)
        } else if let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"] {
            url = full
        } else {
            return nil
        }
        let parsed: Endpoint
        do {
            parsed = try Endpoint(parsing: url)
        } catch {
            throw CredentialError(.invalidConfiguration, "container credentials: \(error)")
        }
        if parsed.scheme == "http" && !allowsPlainHTTP(to: parsed.host) {
            throw CredentialError(.invalidConfiguration,
                                  "AWS_CONTAINER_CREDENTIALS_FULL_URI \(withoutQuery(url)) must use https, or http to a loopback address, 169.254.170.2, 169.254.170.23 or fd00:ec2::23")
        }
        var sender = context.sender
        sender.timeouts = HTTPTimeouts(connect: 2, total: 5)
        let query = url.firstIndex(of: "?").map { String(url[$0...]) } ?? ""
        return ContainerCredentialProvider(
            endpoint: Endpoint(scheme: parsed.scheme, authority: parsed.authority, basePath: ""),
            path: (parsed.basePath.isEmpty ? "/" : parsed.basePath) + query,
            tokenFile: environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"],
            token: environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"], sender: sender)
    }

    init(endpoint: Endpoint, path: String, tokenFile: String?, token: String?, sender: AWSRequestSender) {
        self.endpoint = endpoint
        self.path = path
        self.tokenFile = tokenFile
        self.token = token
        self.sender = sender
    }

    /// The endpoint and where its authorization comes from (the token itself rotates).
    package var identity: String { "container\0\(endpoint)\(path)\0\(tokenFile ?? "")\0\(token ?? "")" }

    package func credentials() throws -> AWSCredentials {
        var headers: [HTTPHeader] = [HTTPHeader("Accept", "application/json")]
        if let authorization = try authorization() {
            headers.append(HTTPHeader("Authorization", authorization))
        }
        let mark = path.firstIndex(of: "?") ?? path.endIndex
        var request = HTTPRequest(method: "GET", endpoint: endpoint, path: PercentEncoding.decode(path[..<mark]), headers: headers)
        request.query = mark == path.endIndex ? [] : HTTPRequest.queryItems(path[path.index(after: mark)...])
        let response: HTTPResponse
        do {
            response = try sender.send(request, signer: nil, credentials: nil, service: "container credentials", operation: "GET")
        } catch {
            throw CredentialError(.providerFailed, "\(name): \(error)", underlying: error)
        }
        return try Self.decode(response.body, source: name)
    }

    private func authorization() throws -> String? {
        var value = token
        if let tokenFile {
            value = try CredentialError.readTokenFile(tokenFile, what: "authorization token", provider: name)
        }
        if let value, value.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) {
            throw CredentialError(.invalidConfiguration, "\(name): the authorization token contains a line break")
        }
        return value
    }

    /// Reads `{AccessKeyId, SecretAccessKey, Token, Expiration}`.
    static func decode(_ body: [UInt8], source: String) throws -> AWSCredentials {
        try CredentialsDocument.credentials(from: body, source: source, verb: "answered", requiresVersion: false)
    }
}
