// `docker-credential-ecr doctor`: every link from docker's config file to a live token, explained.

#if canImport(Glibc)
import Glibc
#endif

/// Checks, in the order a pull depends on them, everything between `docker pull` and an ECR
/// token, and turns each failure into a hint: docker's config file, the AWS credential source
/// (and why earlier ones were passed over), the identity (`sts:GetCallerIdentity`), the cache
/// backend and keyring, the cached entries, and a live token.
package struct Doctor: Sendable {
    /// How a check came out.
    package enum Status: String, Sendable, Equatable {
        /// Fine.
        case ok
        /// Works, but something deserves attention.
        case warning
        /// Breaks pulls.
        case problem
    }

    /// One check.
    package struct Check: Sendable, Equatable {
        /// A stable name: `registry`, `docker-config`, `credentials`, `identity`, `cache`, `token`, `pull`.
        package var name: String
        /// How it came out.
        package var status: Status
        /// One line.
        package var summary: String
        /// Further lines.
        package var details: [String]
        /// What to do, for a warning or problem.
        package var hint: String?
        /// The registry's answer, for the `pull` check.
        package var pull: PullAnswer? = nil
    }

    /// Every check of one run.
    package struct Report: Sendable {
        /// The registry checked, if any.
        package var registry: String?
        /// The checks, in order.
        package var checks: [Check]

        /// Whether no check found a problem.
        package var ok: Bool { !checks.contains { $0.status == .problem } }

        /// For people: a line per check, details and hints indented under it.
        package var text: String {
            var output = ""
            for check in checks {
                let mark = switch check.status {
                case .ok: "ok     "
                case .warning: "warning"
                case .problem: "PROBLEM"
                }
                // Summaries and details quote servers and files: nothing a terminal acts on.
                output += "\(mark)  \(check.name): \(TerminalText.printable(check.summary))\n"
                for detail in check.details { output += "           \(TerminalText.printable(detail))\n" }
                if let hint = check.hint { output += "           hint: \(TerminalText.printable(hint))\n" }
            }
            return output
        }

        /// For machines: `{"ok":..,"registry":..,"checks":[{"name","status","summary","details","hint"}]}`,
        /// keys in that order, `registry` and `hint` only when present; C1 controls and
        /// bidirectional formatting characters are `\u` escapes.
        package var json: String {
            let items = checks.map { check in
                var fields = ["\"name\":\(JSONText.quote(check.name))", "\"status\":\(JSONText.quote(check.status.rawValue))",
                              "\"summary\":\(JSONText.quote(check.summary))",
                              "\"details\":[\(check.details.map(JSONText.quote).joined(separator: ","))]"]
                if let hint = check.hint { fields.append("\"hint\":\(JSONText.quote(hint))") }
                if let pull = check.pull { fields.append(pull.jsonFields) }
                return "{" + fields.joined(separator: ",") + "}"
            }
            let registryField = registry.map { "\"registry\":\(JSONText.quote($0))," } ?? ""
            return TerminalText.escapingInJSON("{\"ok\":\(ok),\(registryField)\"checks\":[\(items.joined(separator: ","))]}\n")
        }
    }

    let parts: HelperContext
    var configuration: HelperConfiguration { parts.configuration }
    var environment: Environment { parts.environment }
    var transport: any HTTPTransport { parts.transport }
    var clock: any WallClock { parts.clock }
    var diagnostics: Diagnostics { parts.diagnostics }

    /// Creates a doctor on the run's shared parts; its stores are those `get` would use, all backends.
    package init(_ context: HelperContext) {
        parts = context
    }

    /// Runs every check for `registryInput` (a host, URL or image reference), or for the first
    /// ECR registry docker's config file names when it is nil; with `image`, a `pull` check
    /// follows the token check (and the registry defaults to the image's).
    package func run(registry registryInput: String?, image: String? = nil) -> Report {
        let registryInput = registryInput ?? image.flatMap { try? ImageReference(parsing: $0).address.description }
        var checks: [Check] = []
        let dockerFile = try? ClientConfigFile(kind: .docker, path: ClientConfigFile.path(of: .docker, environment: environment))
        var registry: ECRRegistry?
        if let registryInput {
            let check = registryCheck(registryInput)
            checks.append(check.0)
            registry = check.1
        } else if let named = dockerFile?.document["credHelpers"]?.members?.first(where: { ECRRegistry(host: $0.key) != nil })?.key {
            registry = ECRRegistry(host: named)
            checks.append(Check(name: "registry", status: .ok, summary: "\(named) (the first ECR registry of docker's config file)",
                                details: [], hint: nil))
        }
        checks.append(dockerConfigCheck(registry: registry))

        let loader = ConfigurationLoader(environment: environment)
        let sender = AWSRequestSender(transport: transport, clock: clock, timeouts: configuration.tokens.requestTimeouts, diagnostics: diagnostics)
        let region = registry?.region ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        let context = CredentialContext(environment: environment, configuration: loader, sender: sender, fallbackRegion: region)
        let (credentialsCheck, provider, steps, credentials) = credentialsCheck(context: context, registry: registry)
        checks.append(credentialsCheck)
        if let provider, let credentials {
            checks.append(identityCheck(context: context, provider: provider, steps: steps, credentials: credentials))
        }
        let stores = parts.stores(everyBackend: true)
        checks.append(cacheCheck(stores: stores, registry: registry))
        if let registry, provider != nil {
            let (check, token) = tokenCheck(registry: registry, steps: steps, provider: provider)
            checks.append(check)
            if let image { checks.append(pullCheck(image: image, registry: registry, token: token)) }
        } else if registryInput == nil, provider != nil {
            checks.append(Check(name: "token", status: .warning, summary: "not tested: no ECR registry named, and none in the docker config",
                                details: [], hint: "run `docker-credential-ecr doctor ACCOUNT.dkr.ecr.REGION.amazonaws.com`"))
        }
        if let image, !checks.contains(where: { $0.name == "pull" }) {
            checks.append(Check(name: "pull", status: .problem, summary: "not checked: no ECR token to check \(TerminalText.printable(image, limit: 300)) with",
                                details: [], hint: "fix the problems above first", pull: PullAnswer(finding: nil, step: nil)))
        }
        return Report(registry: registry?.host ?? registryInput, checks: checks)
    }

    /// The first executable `program` in a directory of `PATH`, as docker finds it.
    static func onPath(_ program: String, environment: Environment) -> String? {
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") where directory.hasPrefix("/") {
            let candidate = "\(directory)/\(program)"
            var info = stat()
            if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// The running executable's path.
    static var thisProgram: String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether `path` is the running executable (the same file, whatever the link).
    static func isThisProgram(_ path: String) -> Bool {
        var theirs = stat()
        var ours = stat()
        guard stat(path, &theirs) == 0, stat("/proc/self/exe", &ours) == 0 else { return true }
        return theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino
    }
}
