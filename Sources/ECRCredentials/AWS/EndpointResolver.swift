// Which URL each AWS service is reached at: the standard host, or the user's override.

/// Resolves service endpoints. In order: `AWS_ENDPOINT_URL_<SERVICE>`, `AWS_ENDPOINT_URL`, the
/// `[services NAME]` section the profile names (`services = NAME`), the profile's `endpoint_url`;
/// none of them when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` (or the profile's
/// `ignore_configured_endpoint_urls`) is true. An override changes where a request goes, never
/// the region or service name it is signed for.
package struct EndpointResolver: Sendable {
    /// An AWS service this tool calls.
    package struct Service: Hashable, Sendable {
        /// The suffix of `AWS_ENDPOINT_URL_<suffix>`, such as `ECR_PUBLIC`.
        package var variableSuffix: String
        /// The key in a `[services]` section, such as `ecr_public`.
        package var configKey: String

        /// Amazon ECR.
        package static let ecr = Service(variableSuffix: "ECR", configKey: "ecr")
        /// Amazon ECR Public.
        package static let ecrPublic = Service(variableSuffix: "ECR_PUBLIC", configKey: "ecr_public")
        /// AWS STS.
        package static let sts = Service(variableSuffix: "STS", configKey: "sts")
        /// IAM Identity Center (SSO) portal.
        package static let sso = Service(variableSuffix: "SSO", configKey: "sso")
        /// IAM Identity Center OIDC.
        package static let ssoOIDC = Service(variableSuffix: "SSO_OIDC", configKey: "sso_oidc")
    }

    private let environment: Environment
    private let configuration: ConfigurationLoader?
    private let profileName: String?

    /// - Parameters:
    ///   - configuration: the AWS config files; nil to consult the environment only.
    ///   - profileName: the profile whose `services` and `endpoint_url` apply.
    package init(environment: Environment, configuration: ConfigurationLoader? = nil, profileName: String? = nil) {
        self.environment = environment
        self.configuration = configuration
        self.profileName = profileName
    }

    /// The override for `service`, if one is configured.
    /// - Throws: `Endpoint.ParseError` for a URL that is not http(s); config file errors.
    package func override(for service: Service) throws -> Endpoint? {
        guard !environment.isTrue("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") else { return nil }
        if let url = environment["AWS_ENDPOINT_URL_\(service.variableSuffix)"] ?? environment["AWS_ENDPOINT_URL"] {
            return try Endpoint(parsing: url)
        }
        guard let configuration = try configuration?.configuration(),
              let profile = configuration.profile(named: profileName ?? AWSConfiguration.profileName(environment: environment))
        else { return nil }
        if profile["ignore_configured_endpoint_urls"]?.lowercased() == "true" { return nil }
        if let servicesName = profile["services"],
           let url = configuration.services(named: servicesName)?.subsections[service.configKey]?["endpoint_url"], !url.isEmpty {
            return try Endpoint(parsing: url)
        }
        if let url = profile["endpoint_url"] {
            return try Endpoint(parsing: url)
        }
        return nil
    }

    /// The endpoint for `service`: the override if any, else `https://<standardHost>`.
    package func endpoint(for service: Service, standardHost: String) throws -> Endpoint {
        try override(for: service) ?? Endpoint(host: standardHost)
    }
}
