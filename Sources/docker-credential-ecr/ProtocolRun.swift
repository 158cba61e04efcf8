// Runs one docker credential helper action: stdin in, stdout out, exit status.
import ECRCredentials

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The process side of a protocol action.
enum ProtocolRun {
    /// Reads stdin when the action takes input, runs it, writes stdout; returns the exit status.
    static func run(_ action: HelperAction) -> Int32 {
        let environment = Environment.current()
        let diagnostics = Diagnostics(level: Diagnostics.level(from: environment))
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

/// Standard input and output of the process, as bytes.
enum StandardStreams {
    /// The most a client sends: a server URL or a small JSON document.
    static let inputLimit = 1 << 20

    /// Reads all of stdin, up to `inputLimit` bytes.
    static func readInput() throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count <= inputLimit {
            let count = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError.current("read", path: "standard input")
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
        throw SystemError("read", path: "standard input", code: EFBIG)
    }

    /// Writes `text` to stdout completely.
    static func writeOutput(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return }
            offset += count
        }
    }
}
