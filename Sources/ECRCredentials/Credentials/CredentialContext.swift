// What every credential provider may need: environment, config files, network, time.

/// The shared inputs of credential resolution, passed to each provider the chain builds.
package struct CredentialContext: Sendable {
    /// The process environment.
    package var environment: Environment
    /// The AWS config and credentials files, read on first use.
    package var configuration: ConfigurationLoader
    /// Sends AWS requests (STS, SSO, metadata endpoints) with retries.
    package var sender: AWSRequestSender
    /// The region for STS when neither the environment nor the profile names one: the registry's.
    package var fallbackRegion: String?
    /// Seconds a `credential_process` may run. Default 30.
    package var processTimeout: Double = 30

    package init(environment: Environment, configuration: ConfigurationLoader, sender: AWSRequestSender,
                fallbackRegion: String? = nil) {
        self.environment = environment
        self.configuration = configuration
        self.sender = sender
        self.fallbackRegion = fallbackRegion
    }

    /// The clock.
    package var clock: any WallClock { sender.clock }
    /// Where debug lines go.
    package var diagnostics: Diagnostics { sender.diagnostics }

    /// Endpoints as configured for `profile` (or the current profile).
    package func endpoints(profile: String? = nil) -> EndpointResolver {
        EndpointResolver(environment: environment, configuration: configuration, profileName: profile)
    }

    /// The region of STS calls: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`, else the
    /// registry's region (known without a network call).
    package func region(profile: AWSConfiguration.Profile?) -> String? {
        environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? profile?["region"] ?? fallbackRegion
    }

    /// An STS client for `profile`'s region and endpoints.
    package func sts(profile: AWSConfiguration.Profile?) -> STSClient {
        STSClient(sender: sender, endpoints: endpoints(profile: profile?.name), region: region(profile: profile))
    }

    /// `docker-credential-ecr-<unix time>`, the default role session name.
    package func defaultSessionName() -> String {
        "docker-credential-ecr-\(Int(clock.now().timeIntervalSince1970))"
    }
}
