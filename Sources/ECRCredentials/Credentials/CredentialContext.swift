// What every credential provider may need: environment, config files, network, time.

/// The shared inputs of credential resolution, passed to each provider the chain builds.
public struct CredentialContext: Sendable {
    /// The process environment.
    public var environment: Environment
    /// The AWS config and credentials files, read on first use.
    public var configuration: ConfigurationLoader
    /// Sends AWS requests (STS, SSO, metadata endpoints) with retries.
    public var sender: AWSRequestSender
    /// The region for STS when neither the environment nor the profile names one: the registry's.
    public var fallbackRegion: String?
    /// Seconds a `credential_process` may run. Default 30.
    public var processTimeout: Double = 30

    /// Creates a context.
    public init(environment: Environment, configuration: ConfigurationLoader, sender: AWSRequestSender,
                fallbackRegion: String? = nil) {
        self.environment = environment
        self.configuration = configuration
        self.sender = sender
        self.fallbackRegion = fallbackRegion
    }

    /// The clock.
    public var clock: any WallClock { sender.clock }
    /// Where debug lines go.
    public var diagnostics: Diagnostics { sender.diagnostics }

    /// Endpoints as configured for `profile` (or the current profile).
    public func endpoints(profile: String? = nil) -> EndpointResolver {
        EndpointResolver(environment: environment, configuration: configuration, profileName: profile)
    }

    /// The region of STS calls: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`, else the
    /// registry's region (known without a network call).
    public func region(profile: AWSConfiguration.Profile?) -> String? {
        environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? profile?["region"] ?? fallbackRegion
    }

    /// An STS client for `profile`'s region and endpoints.
    public func sts(profile: AWSConfiguration.Profile?) -> STSClient {
        STSClient(sender: sender, endpoints: endpoints(profile: profile?.name), region: region(profile: profile))
    }

    /// `docker-credential-ecr-<unix time>`, the default role session name.
    public func defaultSessionName() -> String {
        "docker-credential-ecr-\(Int(clock.now().timeIntervalSince1970))"
    }
}
