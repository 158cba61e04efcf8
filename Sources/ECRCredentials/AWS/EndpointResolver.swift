// Which URL each AWS service is reached at: the standard host, or the user's override.

/// Resolves service endpoints, honouring the `AWS_ENDPOINT_URL_<SERVICE>` and `AWS_ENDPOINT_URL`
/// variables unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` is true. An override changes where a
/// request goes, never the region or service name it is signed for.
public struct EndpointResolver: Sendable {
    /// An AWS service this tool calls, by the identifier its endpoint variable uses.
    public struct Service: Hashable, Sendable {
        /// The suffix of `AWS_ENDPOINT_URL_<suffix>`, such as `ECR_PUBLIC`.
        public var variableSuffix: String
        /// The name used in messages.
        public var displayName: String

        /// Amazon ECR.
        public static let ecr = Service(variableSuffix: "ECR", displayName: "ECR")
        /// Amazon ECR Public.
        public static let ecrPublic = Service(variableSuffix: "ECR_PUBLIC", displayName: "ECR Public")
        /// AWS STS.
        public static let sts = Service(variableSuffix: "STS", displayName: "STS")
        /// IAM Identity Center (SSO) portal.
        public static let sso = Service(variableSuffix: "SSO", displayName: "SSO")
        /// IAM Identity Center OIDC.
        public static let ssoOIDC = Service(variableSuffix: "SSO_OIDC", displayName: "SSO OIDC")
    }

    private let environment: Environment

    /// Creates a resolver reading `environment`.
    public init(environment: Environment) {
        self.environment = environment
    }

    /// The override for `service`, if one is configured.
    /// - Throws: `Endpoint.ParseError` when the configured URL is not http(s).
    public func override(for service: Service) throws -> Endpoint? {
        guard !environment.isTrue("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") else { return nil }
        if let url = environment["AWS_ENDPOINT_URL_\(service.variableSuffix)"] ?? environment["AWS_ENDPOINT_URL"] {
            return try Endpoint(parsing: url)
        }
        return nil
    }

    /// The endpoint for `service`: the override if any, else `https://<standardHost>`.
    public func endpoint(for service: Service, standardHost: String) throws -> Endpoint {
        try override(for: service) ?? Endpoint(host: standardHost)
    }
}
