// One run of the helper protocol: an action, its stdin, its stdout and exit status.

/// The actions of the docker credential helper protocol.
package enum HelperAction: String, Sendable, CaseIterable {
    /// Print the credentials for the server URL on stdin.
    case get
    /// Keep the credentials JSON on stdin.
    case store
    /// Forget the server URL on stdin.
    case erase
    /// Print the kept server URLs and user names.
    case list
    /// Print the program and version.
    case version

    /// Whether the action reads standard input.
    package var readsInput: Bool { self == .get || self == .store || self == .erase }
}

/// What a protocol run prints and how it exits.
package struct HelperOutcome: Sendable, Equatable {
    /// The text for stdout, newline included.
    package var standardOutput: String
    /// 0 on success, 1 on any error, as the protocol asks.
    package var exitCode: Int32

    package init(standardOutput: String, exitCode: Int32) {
        self.standardOutput = standardOutput
        self.exitCode = exitCode
    }
}

extension CredentialHelper {
    /// Runs one action: errors go to stdout with exit status 1 (clients read only stdout), and
    /// for ECR hosts the cause goes to stderr through the diagnostics.
    package func run(_ action: HelperAction, input: [UInt8], diagnostics: Diagnostics) -> HelperOutcome {
        do {
            switch action {
            case .get:
                let credential = try get(String(decoding: input, as: UTF8.self))
                return HelperOutcome(standardOutput: credential.json + "\n", exitCode: 0)
            case .store:
                try store(input)
                return HelperOutcome(standardOutput: "", exitCode: 0)
            case .erase:
                try erase(String(decoding: input, as: UTF8.self))
                return HelperOutcome(standardOutput: "", exitCode: 0)
            case .list:
                return HelperOutcome(standardOutput: JSONText.object(try list()) + "\n", exitCode: 0)
            case .version:
                return HelperOutcome(standardOutput: ToolVersion.line + "\n", exitCode: 0)
            }
        } catch let error as HelperError {
            if let cause = error.cause { diagnostics.warning(cause) }
            return HelperOutcome(standardOutput: error.message + "\n", exitCode: 1)
        } catch {
            return HelperOutcome(standardOutput: "\(error)\n", exitCode: 1)
        }
    }
}
