// The composition root: the parts every command of one run shares, built once.
import ECRCredentials

/// The environment, the diagnostics, the network and the clock of this run; every command
/// receives it, and reads the helper's configuration from it once.
struct Composition {
    /// The process's environment.
    let environment: Environment
    /// Warnings and debug lines (`DOCKER_CREDENTIAL_ECR_LOG`).
    let diagnostics: Diagnostics
    /// libcurl, with `AWS_CA_BUNDLE` and this program's user agent; loaded on the first request.
    let transport: any HTTPTransport
    /// The system clock.
    let clock: any WallClock = SystemClock()

    /// Builds the parts from this process's environment.
    init(environment: Environment = .current()) {
        self.environment = environment
        diagnostics = Diagnostics(environment: environment)
        transport = CurlTransport(caBundle: environment["AWS_CA_BUNDLE"], userAgent: "docker-credential-ecr/\(ToolVersion.number)")
    }

    /// The helper's configuration, read from the environment (and the tool's config file); each
    /// command reads it once.
    /// - Throws: `TokenSettings.InvalidSetting` for a setting that does not read.
    func configuration() throws -> HelperConfiguration {
        try HelperConfiguration(environment: environment)
    }

    /// The helper's context, for a command run by a person: a setting that does not read is
    /// said on stderr (as `program`) and ends the run with exit status 1.
    func context(program: String) throws -> HelperContext {
        let configuration: HelperConfiguration
        do {
            configuration = try self.configuration()
        } catch {
            Diagnostics(level: .warning, program: program).warning("\(error)")
            throw CommandFailure.failure
        }
        return HelperContext(configuration: configuration, environment: environment, transport: transport, clock: clock,
                             diagnostics: diagnostics)
    }
}
