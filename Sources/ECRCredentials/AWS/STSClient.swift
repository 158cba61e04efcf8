// AWS STS: AssumeRole (signed) and AssumeRoleWithWebIdentity (unsigned).

/// Calls the STS Query API and reads the credentials out of its XML replies.
package struct STSClient: Sendable {
    /// A reply that carried no usable credentials.
    package struct MalformedReply: Error, Sendable, CustomStringConvertible {
        /// The operation.
        package var operation: String
        /// What was missing.
        package var reason: String
        /// For example "STS AssumeRole returned an unusable reply: no AccessKeyId".
        package var description: String { "STS \(operation) returned an unusable reply: \(reason)" }
    }

    /// Options of a role session.
    package struct SessionOptions: Sendable, Equatable {
        /// `RoleSessionName`.
        package var sessionName: String
        /// `ExternalId`, for roles that require one.
        package var externalID: String?
        /// `DurationSeconds` (900 to 43200); nil for the role's default (one hour).
        package var durationSeconds: Int?

        /// Creates options.
        package init(sessionName: String, externalID: String? = nil, durationSeconds: Int? = nil) {
            self.sessionName = sessionName
            self.externalID = externalID
            self.durationSeconds = durationSeconds
        }
    }

    private let sender: AWSRequestSender
    private let endpoints: EndpointResolver
    /// The signing region; nil means the global endpoint, signed for us-east-1.
    package let region: String?

    /// Creates a client for a region (nil: `sts.amazonaws.com`).
    package init(sender: AWSRequestSender, endpoints: EndpointResolver, region: String?) {
        self.sender = sender
        self.endpoints = endpoints
        self.region = region
    }

    /// The endpoint calls go to.
    package func endpoint() throws -> Endpoint {
        let partition = region.map(AWSPartition.of(region:)) ?? .aws
        return try endpoints.endpoint(for: .sts, standardHost: partition.stsHost(region: region))
    }

    /// `AssumeRole`, signed with `credentials`.
    /// - Throws: `AWSServiceError`, `HTTPTransportError`, `MalformedReply`.
    package func assumeRole(_ roleARN: String, options: SessionOptions, credentials: AWSCredentials) throws -> AWSCredentials {
        var parameters = [("Action", "AssumeRole"), ("Version", "2011-06-15"), ("RoleArn", roleARN),
                          ("RoleSessionName", options.sessionName)]
        if let externalID = options.externalID { parameters.append(("ExternalId", externalID)) }
        if let duration = options.durationSeconds { parameters.append(("DurationSeconds", String(duration))) }
        let signer = SigV4Signer(service: "sts", region: region ?? "us-east-1")
        return try call("AssumeRole", parameters: parameters, signer: signer, credentials: credentials)
    }

    /// `AssumeRoleWithWebIdentity`, unsigned: the web identity token is the proof.
    package func assumeRoleWithWebIdentity(_ roleARN: String, options: SessionOptions, token: String) throws -> AWSCredentials {
        var parameters = [("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleARN),
                          ("RoleSessionName", options.sessionName), ("WebIdentityToken", token)]
        if let duration = options.durationSeconds { parameters.append(("DurationSeconds", String(duration))) }
        return try call("AssumeRoleWithWebIdentity", parameters: parameters, signer: nil, credentials: nil)
    }

    /// Who a set of credentials belongs to, as `GetCallerIdentity` tells.
    package struct CallerIdentity: Sendable, Equatable {
        /// The 12-digit account.
        package var account: String
        /// The principal's ARN (`arn:aws:sts::123456789012:assumed-role/Role/session`).
        package var arn: String
        /// The unique id of the principal.
        package var userID: String
    }

    /// `GetCallerIdentity`, signed with `credentials`: who they belong to. Needs no permission.
    /// - Throws: `AWSServiceError`, `HTTPTransportError`, `MalformedReply`.
    package func callerIdentity(credentials: AWSCredentials) throws -> CallerIdentity {
        let body = "Action=GetCallerIdentity&Version=2011-06-15"
        let request = HTTPRequest(method: "POST", endpoint: try endpoint(),
                                  headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
                                  body: Array(body.utf8))
        let signer = SigV4Signer(service: "sts", region: region ?? "us-east-1")
        let response = try sender.send(request, signer: signer, credentials: credentials, service: "STS", operation: "GetCallerIdentity")
        let xml = String(decoding: response.body, as: UTF8.self)
        func field(_ name: String) throws -> String {
            guard let value = XMLText.firstElement(name, inside: "GetCallerIdentityResult", in: xml), !value.isEmpty else {
                throw MalformedReply(operation: "GetCallerIdentity", reason: "no \(name)")
            }
            // Shown to people (doctor, configure --discover): nothing a terminal acts on.
            return TerminalText.printable(value, limit: 2048)
        }
        return CallerIdentity(account: try field("Account"), arn: try field("Arn"), userID: try field("UserId"))
    }

    private func call(_ operation: String, parameters: [(String, String)], signer: SigV4Signer?,
                      credentials: AWSCredentials?) throws -> AWSCredentials {
        let body = parameters.map { "\(PercentEncoding.encode($0.0))=\(PercentEncoding.encode($0.1))" }.joined(separator: "&")
        let request = HTTPRequest(method: "POST", endpoint: try endpoint(),
                                  headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
                                  body: Array(body.utf8))
        let response = try sender.send(request, signer: signer, credentials: credentials, service: "STS", operation: operation)
        return try Self.credentials(in: String(decoding: response.body, as: UTF8.self), operation: operation)
    }

    static func credentials(in xml: String, operation: String) throws -> AWSCredentials {
        func field(_ name: String) throws -> String {
            guard let value = XMLText.firstElement(name, inside: "Credentials", in: xml), !value.isEmpty else {
                throw MalformedReply(operation: operation, reason: "no \(name)")
            }
            return value
        }
        let expiration = try field("Expiration")
        guard let date = Timestamp.parseISO8601(expiration) else {
            throw MalformedReply(operation: operation, reason: "Expiration is not a time: \(expiration)")
        }
        return AWSCredentials(accessKeyID: try field("AccessKeyId"), secretAccessKey: try field("SecretAccessKey"),
                              sessionToken: try field("SessionToken"), expiration: date)
    }
}
