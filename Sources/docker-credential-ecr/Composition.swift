// The composition root: the parts every command of one run shares, built once.
import ArgumentParser
import ECRCredentials

/// The environment, the diagnostics, the network and the clock of this run, and the helper's
/// configuration read from them once; every command receives it.
struct Composition {
    /// The process's environment.
    let environment: Environment
    /// Warnings and debug lines (`DOCKER_CREDENTIAL_ECR_LOG`).
    let diagnostics: Diagnostics
    /// libcurl, with `AWS_CA_BUNDLE` and this program's user agent; loaded on the first request.
    let transport: any HTTPTransport
    /// The system clock.
    let clock: any WallClock = SystemClock()
    /// The configuration, or why it could not be read.
    let configuration: Result<HelperConfiguration, any Error>

    /// Builds the parts from this process's environment.
    init(environment: Environment = .current()) {
        self.environment = environment
        diagnostics = Diagnostics(environment: environment)
        transport = CurlTransport(caBundle: environment["AWS_CA_BUNDLE"], userAgent: "docker-credential-ecr/\(ToolVersion.number)")
        configuration = Result { try HelperConfiguration(environment: environment) }
    }

    /// The helper's context, for a command run by a person: a setting that does not read is
    /// said on stderr (as `program`) and ends the run with exit status 1.
    func context(program: String) throws -> HelperContext {
        switch configuration {
        case .success(let configuration):
            return HelperContext(configuration: configuration, environment: environment, transport: transport, clock: clock,
                                 diagnostics: diagnostics)
        case .failure(let error):
            Diagnostics(level: .warning, program: program).warning("\(error)")
            throw ExitCode.failure
        }
    }
}
