// Credentials printed by a program the profile names (`credential_process`).
import FoundationEssentials

/// Runs a profile's `credential_process` (split like a shell would, run without one) and reads
/// the JSON it prints: `{"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken"?, "Expiration"?}`.
public struct ProcessCredentialProvider: CredentialProvider {
    /// The command line as written in the profile.
    public let commandLine: String
    /// The profile, for messages.
    public let profileName: String
    /// Seconds the program may run. Default 30.
    public let timeout: Double
    /// "credential_process of profile "dev"".
    public var name: String { "credential_process of profile \"\(profileName)\"" }
    private let environment: Environment
    private let diagnostics: Diagnostics

    /// Creates a provider.
    public init(commandLine: String, profileName: String, environment: Environment, diagnostics: Diagnostics, timeout: Double = 30) {
        self.commandLine = commandLine
        self.profileName = profileName
        self.environment = environment
        self.diagnostics = diagnostics
        self.timeout = timeout
    }

    /// The command line: another command is another identity.
    public var identity: String { "process\0\(commandLine)" }

    public func credentials() throws -> AWSCredentials {
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
            throw CredentialError(.providerFailed, "\(name): \(error)")
        }
        let errors = String(decoding: result.errors, as: UTF8.self).trimmingASCIIWhitespace()
        if result.timedOut {
            throw CredentialError(.providerFailed, "\(name): `\(arguments[0])` did not finish within \(Int(timeout)) s and was stopped")
        }
        guard result.status == 0 else {
            // Pass the program's own explanation through: it is usually what the user needs.
            throw CredentialError(.providerFailed, "\(name): `\(arguments[0])` exited with status \(result.status)"
                                  + (errors.isEmpty ? "" : ": \(errors)"))
        }
        if !errors.isEmpty { diagnostics.debug("\(name) wrote on stderr: \(errors)") }
        return try Self.decode(result.output, source: name)
    }

    static func decode(_ output: [UInt8], source: String) throws -> AWSCredentials {
        struct Reply: Decodable {
            var Version: Int?
            var AccessKeyId: String?
            var SecretAccessKey: String?
            var SessionToken: String?
            var Expiration: String?
        }
        let reply: Reply
        do {
            reply = try JSONInput.decode(Reply.self, from: output)
        } catch {
            throw CredentialError(.providerFailed, "\(source) printed something that is not the expected JSON object")
        }
        guard reply.Version == 1 else {
            throw CredentialError(.providerFailed, "\(source) printed \"Version\": \(reply.Version.map(String.init) ?? "nothing"); only 1 is supported")
        }
        guard let keyID = reply.AccessKeyId, !keyID.isEmpty else { throw CredentialError(.providerFailed, "\(source) printed no AccessKeyId") }
        guard let secret = reply.SecretAccessKey, !secret.isEmpty else {
            throw CredentialError(.providerFailed, "\(source) printed no SecretAccessKey")
        }
        return AWSCredentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: reply.SessionToken,
                              expiration: try CredentialError.expiration(reply.Expiration, from: source))
    }
}
