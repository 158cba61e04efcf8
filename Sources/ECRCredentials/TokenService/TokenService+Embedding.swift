// The library's public face: a token service set up from the environment, as the helper sets it up.

extension TokenService {
    /// A token service set up as `docker-credential-ecr get` sets one up, from `environment`: the
    /// tool's settings and config file (`TokenSettings(environment:)`), the configured cache (the
    /// keyring's tiers or the private files, shared with the helper), libcurl with
    /// `AWS_CA_BUNDLE`, and the system clock. Warnings go to stderr, prefixed with `program`.
    ///
    ///     let service = try TokenService()
    ///     let registry = ECRRegistry(host: "123456789012.dkr.ecr.us-east-1.amazonaws.com")!
    ///     let token = try service.token(for: registry)   // token.username, token.password
    ///
    /// - Throws: `TokenSettings.InvalidSetting` when a setting does not read.
    public init(environment: Environment = .current(), program: String = "docker-credential-ecr") throws {
        let configuration = try HelperConfiguration(environment: environment)
        let diagnostics = Diagnostics(environment: environment, program: program)
        let stores = CredentialStores.select(configuration, environment: environment, diagnostics: diagnostics)
        self.init(settings: configuration.tokens, cache: stores.tokens, environment: environment,
                  transport: CurlTransport(caBundle: environment["AWS_CA_BUNDLE"], userAgent: "\(program)/\(ToolVersion.number)"),
                  diagnostics: diagnostics)
    }

    /// The token for `registry`: the cached one while it is fresh, else one fetched from ECR with
    /// the configured AWS identity (the tool's identity rules over the standard credential chain)
    /// and cached. Parallel callers, in this process or others, fetch once.
    /// - Throws: `CredentialError` (no credentials, or a source that failed), `AWSServiceError`
    ///   (ECR or STS refused), `HTTPTransportError` (the network), `TokenService.RecentFailure`,
    ///   `TokenService.ExpiredOnArrival`; `TransientFailure.isTransient` tells whether trying
    ///   again later may succeed.
    public func token(for registry: ECRRegistry) throws -> IssuedToken {
        try token(for: registry, identity: .configured)
    }
}
