// Runs one docker credential helper action: stdin in, stdout out, exit status.
import ECRCredentials

#if canImport(Glibc)
import Glibc
#endif

/// The process side of a protocol action.
enum ProtocolRun {
    /// Reads stdin when the action takes input, runs it, writes stdout; returns the exit status.
    static func run(_ action: HelperAction) -> Int32 {
        let environment = Environment.current()
        let diagnostics = Diagnostics(environment: environment)
        let outcome: HelperOutcome
        do {
            let configuration = try HelperConfiguration(environment: environment)
            let helper = CredentialHelper(
                configuration: configuration, environment: environment,
                transport: CurlTransport(caBundle: environment["AWS_CA_BUNDLE"], userAgent: "docker-credential-ecr/\(ToolVersion.number)"),
                diagnostics: diagnostics)
            let input = action.readsInput ? try StandardStreams.readInput() : []
            outcome = helper.run(action, input: input, diagnostics: diagnostics)
        } catch {
            outcome = HelperOutcome(standardOutput: "\(error)\n", exitCode: 1)
        }
        StandardStreams.writeOutput(outcome.standardOutput)
        return outcome.exitCode
    }
}
