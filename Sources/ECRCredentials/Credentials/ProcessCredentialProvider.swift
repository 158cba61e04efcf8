// Credentials printed by a program the profile names (`credential_process`).

/// Runs a profile's `credential_process` (split like a shell would, run without one) and reads
/// the JSON it prints: `{"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken"?, "Expiration"?}`.
package struct ProcessCredentialProvider: CredentialProvider {
    /// The command line as written in the profile.
    package let commandLine: String
    /// The profile, for messages.
    package let profileName: String
    /// Seconds the program may run. Default 30.
    package let timeout: Double
    /// "credential_process of profile "dev"".
    package var name: String { "credential_process of profile \"\(profileName)\"" }
    private let environment: Environment
    private let diagnostics: Diagnostics

    package init(commandLine: String, profileName: String, environment: Environment, diagnostics: Diagnostics, timeout: Double = 30) {
        self.commandLine = commandLine
        self.profileName = profileName
        self.environment = environment
        self.diagnostics = diagnostics
        self.timeout = timeout
    }

    /// The command line: another command is another identity.
    package var identity: String { "process\0\(commandLine)" }

    package func credentials() throws -> AWSCredentials {
        let arguments: [String]
        do {
            arguments = try CommandLineWords.split(commandLine)
        } catch {
            throw CredentialError(.invalidConfiguration, "\(name): \(error)")
        }
        guard !arguments.isEmpty else { throw CredentialError(.invalidConfiguration, "\(name) is empty") }
        let result: ChildProcess.Result
        do {
            result = try ChildProcess.run(arguments, environment: environment.variables, timeout: timeout)
        } catch {
            throw CredentialError(.providerFailed, "\(name): \(error)", underlying: error)
        }
        let errors = String(decoding: result.errors, as: UTF8.self).trimmingASCIIWhitespace()
        if result.timedOut {
            let failure = TimeLimitExceeded(program: arguments[0], seconds: timeout)
            throw CredentialError(.providerFailed, "\(name): \(failure)", underlying: failure)
        }
        guard result.status == 0 else {
            // Pass the program's own explanation through: it is usually what the user needs.
            throw CredentialError(.providerFailed, "\(name): `\(arguments[0])` exited with status \(result.status)"
                                  + (errors.isEmpty ? "" : ": \(errors)"))
        }
        if !errors.isEmpty { diagnostics.debug("\(name) wrote on stderr: \(errors)") }
        return try Self.decode(result.output, source: name)
    }

    /// The program was stopped at its time limit. Passing: what it waits for (a vault, an SSO
    /// portal, a network) may answer next time.
    package struct TimeLimitExceeded: Error, Sendable, CustomStringConvertible, TransientFailure {
        /// The program.
        package var program: String
        /// The limit, in seconds.
        package var seconds: Double
        /// Creates the error.
        package init(program: String, seconds: Double) {
            self.program = program
            self.seconds = seconds
        }

        /// Always true.
        package var isTransient: Bool { true }
        /// For example "`aws-vault` did not finish within 30 s and was stopped".
        package var description: String { "`\(program)` did not finish within \(Int(seconds)) s and was stopped" }
    }

    static func decode(_ output: [UInt8], source: String) throws -> AWSCredentials {
        try CredentialsDocument.credentials(from: output, source: source, verb: "printed", requiresVersion: true)
    }
}
