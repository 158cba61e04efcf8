// The composition root: the parts every command of one run shares, built once.
import ECRCredentials

/// The environment, the diagnostics, the network and the clock of this run; every command
/// receives it. Token settings are read by what needs them: the plugin's are the node's own
/// (`CredentialProviderPlugin.nodeSettings`).
struct Composition {
    /// The process's environment.
    let environment: Environment
    /// Warnings and debug lines, as `ecr-credential-provider` (the kubelet logs stderr).
    let diagnostics: Diagnostics
    /// libcurl, with `AWS_CA_BUNDLE` and this program's user agent; loaded on the first request.
    let transport: any HTTPTransport
    /// The system clock.
    let clock: any WallClock = SystemClock()

    /// Builds the parts from this process's environment.
    init(environment: Environment = .current()) {
        self.environment = environment
        diagnostics = Diagnostics(environment: environment, program: "ecr-credential-provider")
        transport = CurlTransport(caBundle: environment["AWS_CA_BUNDLE"], userAgent: "ecr-credential-provider/\(ToolVersion.number)")
    }

    /// A token service on the node's settings and `cache`.
    func tokenService(settings: TokenSettings, cache: TokenCache) -> TokenService {
        TokenService(settings: settings, cache: cache, environment: environment, transport: transport, clock: clock, diagnostics: diagnostics)
    }
}
