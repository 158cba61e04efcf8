// Runs one docker credential helper action: stdin in, stdout out, exit status.
import ECRCredentials

#if canImport(Glibc)
import Glibc
#endif

/// The process side of a protocol action.
enum ProtocolRun {
    /// Reads stdin when the action takes input, runs it, writes stdout and ends the process with
    /// the action's exit status.
    ///
    /// The process ends while the helper is still alive: the kernel closes its files and
    /// releases its locks, and tearing it down first would cost a tenth of a cache hit (the
    /// run-time lookup of type metadata for values that are otherwise never touched).
    static func run(_ action: HelperAction) -> Never {
        let composition = Composition()
        do {
            // A setting that does not read is the protocol's failure: its text on stdout.
            let configuration = try composition.configuration()
            let helper = CredentialHelper(HelperContext(configuration: configuration, environment: composition.environment,
                                                        transport: composition.transport, clock: composition.clock,
                                                        diagnostics: composition.diagnostics))
            let input = action.readsInput ? try StandardStreams.readInput() : []
            withExtendedLifetime(helper) {
                finish(helper.run(action, input: input, diagnostics: composition.diagnostics))
            }
        } catch {
            finish(HelperOutcome(standardOutput: "\(error)\n", exitCode: 1))
        }
    }

    /// Writes the outcome's output and exits with its status; with 1 when the output could not
    /// be written (a closed or full stdout: the client did not get the answer).
    private static func finish(_ outcome: HelperOutcome) -> Never {
        do {
            try StandardStreams.writeOutput(outcome.standardOutput)
        } catch {
            Diagnostics(level: .warning).warning("\(error)")
            exit(outcome.exitCode == 0 ? 1 : outcome.exitCode)
        }
        exit(outcome.exitCode)
    }
}
