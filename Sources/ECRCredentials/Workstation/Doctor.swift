// `docker-credential-ecr doctor`: every link from docker's config file to a live token, explained.
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// Checks, in the order a pull depends on them, everything between `docker pull` and an ECR
/// token, and turns each failure into a hint: docker's config file, the AWS credential source
/// (and why earlier ones were passed over), the identity (`sts:GetCallerIdentity`), the cache
/// backend and keyring, the cached entries, and a live token.
public struct Doctor: Sendable {
    /// How a check came out.
    public enum Status: String, Sendable, Equatable {
        /// Fine.
        case ok
        /// Works, but something deserves attention.
        case warning
        /// Breaks pulls.
        case problem
    }

    /// One check.
    public struct Check: Sendable, Equatable {
        /// A stable name: `registry`, `docker-config`, `credentials`, `identity`, `cache`, `token`, `pull`.
        public var name: String
        /// How it came out.
        public var status: Status
        /// One line.
        public var summary: String
        /// Further lines.
        public var details: [String]
        /// What to do, for a warning or problem.
        public var hint: String?
        /// The registry's answer, for the `pull` check.
        public var pull: PullAnswer? = nil
    }

    /// Every check of one run.
    public struct Report: Sendable {
        /// The registry checked, if any.
        public var registry: String?
        /// The checks, in order.
        public var checks: [Check]

        /// Whether no check found a problem.
        public var ok: Bool { !checks.contains { $0.status == .problem } }

        /// For people: a line per check, details and hints indented under it.
        public var text: String {
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
        public var json: String {
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

    private let parts: HelperContext
    var configuration: HelperConfiguration { parts.configuration }
    var environment: Environment { parts.environment }
    var transport: any HTTPTransport { parts.transport }
    var clock: any WallClock { parts.clock }
    var diagnostics: Diagnostics { parts.diagnostics }

    /// Creates a doctor on the run's shared parts; its stores are those `get` would use, all backends.
    public init(_ context: HelperContext) {
        parts = context
    }

    /// Runs every check for `registryInput` (a host, URL or image reference), or for the first
    /// ECR registry docker's config file names when it is nil; with `image`, a `pull` check
    /// follows the token check (and the registry defaults to the image's).
    public func run(registry registryInput: String?, image: String? = nil) -> Report {
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

    // MARK: the checks

    private func registryCheck(_ input: String) -> (Check, ECRRegistry?) {
        do {
            let host = try RegistryList.host(input)
            return (Check(name: "registry", status: .ok, summary: host, details: [], hint: nil), ECRRegistry(host: host))
        } catch {
            let suggestion = RegistryList.suggestion(for: input)
            return (Check(name: "registry", status: .problem, summary: "\(error)", details: [],
                          hint: suggestion.map { "use \($0)" } ?? "ECR registries are ACCOUNT.dkr.ecr.REGION.amazonaws.com (or public.ecr.aws)"), nil)
        }
    }

    private func dockerConfigCheck(registry: ECRRegistry?) -> Check {
        let path = ClientConfigFile.path(of: .docker, environment: environment)
        let file: ClientConfigFile
        do {
            file = try ClientConfigFile(kind: .docker, path: path)
        } catch {
            let problem = error as? ClientConfigFile.Problem
            let hint = problem?.isEncoding == true ? "fix the file by hand; docker reads it with U+FFFD in place of what is wrong"
                : problem?.dockerCannotReadIt ?? true ? "fix the file by hand; docker cannot read it either"
                : "docker may still read it, but this tool cannot check or change it"
            return Check(name: "docker-config", status: .problem, summary: "\(error)", details: [], hint: hint)
        }
        var status = Status.ok
        var details: [String] = []
        var hints: [String] = []
        let helpers = file.document["credHelpers"]?.members ?? []
        let store = file.document["credsStore"]?.stringValue
        var named = Set(helpers.compactMap { $0.value.stringValue })
        if let store { named.insert(store) }
        for helper in named.sorted() where Self.onPath("docker-credential-\(helper)", environment: environment) == nil {
            let users = helpers.filter { $0.value.stringValue == helper }.map(\.key) + (store == helper ? ["credsStore"] : [])
            details.append("docker-credential-\(helper) is not on PATH, but \(users.joined(separator: ", ")) \(users.count == 1 ? "names" : "name") it")
            status = .problem
            hints.append("install docker-credential-\(helper), or remove those entries")
        }
        let odd = helpers.filter { $0.value.stringValue == nil }.map(\.key)
        if !odd.isEmpty {
            details.append("credHelpers entries that are not strings, which docker refuses: \(odd.joined(separator: ", "))")
            status = .problem
            hints.append("give each credHelpers entry a helper name, such as \"ecr\"")
        }
        if file.document["credsStore"] != nil, store == nil {
            details.append("credsStore is not a string, which docker refuses")
            status = .problem
        }
        // The helper docker will run is the first docker-credential-ecr on PATH: is it this one?
        if named.contains(ClientConfigurator.helperName), let found = Self.onPath("docker-credential-\(ClientConfigurator.helperName)", environment: environment),
           !Self.isThisProgram(found) {
            details.append("docker will run \(found), which is not this program (\(Self.thisProgram ?? "unknown"))")
            if status == .ok { status = .warning }
            hints.append("remove or update \(found), or put this program's directory first on PATH")
        }
        var summary = file.exists ? path : "\(path) does not exist"
        if let registry {
            let entry = helpers.first { $0.key == registry.host }?.value.stringValue
            switch (entry, store) {
            case (ClientConfigurator.helperName?, _):
                summary = "\(path): credHelpers sends \(registry.host) to this helper"
            case (let other?, _):
                status = .problem
                summary = "\(path): credHelpers sends \(registry.host) to docker-credential-\(other), not to this helper"
                if store == ClientConfigurator.helperName {
                    details.append("credsStore names this helper, but the credHelpers entry for \(registry.host) wins over it")
                }
                hints.append("run `docker-credential-ecr configure \(registry.host)`")
            case (nil, ClientConfigurator.helperName?):
                summary = "\(path): credsStore sends \(registry.host) to this helper"
            case (nil, let other?):
                status = .problem
                summary = "\(path): no credHelpers entry for \(registry.host), so docker asks credsStore docker-credential-\(other)"
                hints.append("run `docker-credential-ecr configure \(registry.host)`")
            case (nil, nil):
                status = .problem
                summary = "\(path): nothing sends \(registry.host) to this helper"
                hints.append("run `docker-credential-ecr configure \(registry.host)`")
            }
        } else if !named.contains(ClientConfigurator.helperName) {
            status = .problem
            summary = "\(path): no credHelpers entry and no credsStore names this helper"
            hints.append("run `docker-credential-ecr configure ACCOUNT.dkr.ecr.REGION.amazonaws.com` (or `configure --discover`)")
        }
        if !hints.isEmpty, status == .ok { status = .warning }
        return Check(name: "docker-config", status: status, summary: summary, details: details,
                     hint: hints.isEmpty ? nil : hints.joined(separator: "; "))
    }

    /// The credentials row: the source the chain (or a rule) picks, which is asked for credentials
    /// at once, so a source that fails (a metadata service that answers 403, an expired SSO
    /// login) makes this row the problem, with the cause. Also gives what the source answered,
    /// for the identity row.
    private func credentialsCheck(context: CredentialContext, registry: ECRRegistry?)
        -> (Check, (any CredentialProvider)?, [CredentialChain.Step], Result<AWSCredentials, any Error>?) {
        let steps = CredentialChain(context: context).explain()
        let details = steps.map { $0.chosen ? "\($0.source) is used: \($0.outcome)" : "\($0.source): \($0.outcome)" }
        let provider: any CredentialProvider
        var summary: String
        do {
            if let registry {
                if let problem = configuration.tokens.toolConfigError { throw problem }
                let resolver = RegistryCredentialResolver(context: context, settings: configuration.tokens.toolConfig)
                provider = try resolver.resolve(for: registry).provider
                summary = resolver.rule(for: registry).map { "\(provider.name), by the rule of \($0.origin)" } ?? provider.name
            } else {
                provider = try CredentialChain(context: context).provider()
                summary = provider.name
            }
        } catch {
            return (Check(name: "credentials", status: .problem, summary: "\(error)", details: details,
                          hint: Self.hint(for: error, steps: steps, provider: nil, now: clock.now())), nil, steps, nil)
        }
        let credentials = Result { try provider.credentials() }
        guard case .failure(let error) = credentials else {
            return (Check(name: "credentials", status: .ok, summary: summary, details: details, hint: nil), provider, steps, credentials)
        }
        // The cause, naming the source (the chain's errors name it already).
        summary = "\(error)".contains(provider.name) ? "\(error)" : "\(provider.name): \(error)"
        return (Check(name: "credentials", status: .problem, summary: summary, details: details,
                      hint: Self.hint(for: error, steps: steps, provider: provider, now: clock.now())), provider, steps, credentials)
    }

    private func identityCheck(context: CredentialContext, provider: any CredentialProvider, steps: [CredentialChain.Step],
                               credentials: Result<AWSCredentials, any Error>) -> Check {
        let sts = context.sts(profile: nil)
        var details: [String] = []
        if let endpoint = try? sts.endpoint() { details.append("STS endpoint \(endpoint), region \(sts.region ?? "us-east-1")") }
        do {
            let identity = try sts.callerIdentity(credentials: try credentials.get())
            return Check(name: "identity", status: .ok, summary: "\(identity.arn) (account \(identity.account))", details: details, hint: nil)
        } catch {
            return Check(name: "identity", status: .problem, summary: "\(error)", details: details,
                         hint: Self.hint(for: error, steps: steps, provider: provider, now: clock.now()))
        }
    }

    private func cacheCheck(stores: CredentialStores, registry: ECRRegistry?) -> Check {
        var details: [String] = []
        var status = Status.ok
        let backend = configuration.cacheBackend
        var summary = "backend \(backend.rawValue): tokens in " + (stores.tokens.store.map { store in
            (store as? FileCredentialStore).map { "files under \($0.directory)" } ?? "the \(store.name)"
        } ?? "no cache")
        if let problem = stores.keyringProblem {
            details.append("keyring: \(problem)")
            if backend == .keyring {
                status = .warning
                summary += " (the keyring is required but cannot be used, so nothing is cached)"
            }
        } else if stores.everything.contains(where: { !($0 is FileCredentialStore) }) {
            details.append("keyring: reachable and unlocked")
        } else {
            details.append("keyring: not tried (no D-Bus session bus)")
        }
        let tiered = stores.everything.lazy.compactMap { $0 as? TieredKeyringStore }.first
        if !configuration.tokens.kernelKeyring {
            details.append("kernel keyring: turned off")
        } else if let kernel = tiered?.fast ?? stores.everything.lazy.compactMap({ $0 as? KernelKeyringStore }).first {
            let count = (try? kernel.allRecords().count) ?? 0
            let entries = "\(count) \(count == 1 ? "entry" : "entries") for this configuration"
            if let refusal = kernel.refusal {
                // Said here once, not on every write: a change made here still retires the copies
                // kept outside (a sandbox, a user namespace), through the generation file.
                details.append("kernel keyring: not usable here (\(refusal)); the Secret Service is asked every time, and `store`, "
                               + "`erase` and `logout` here retire the copies other processes keep through \(kernel.generationFile.path)")
            } else if tiered != nil {
                details.append("kernel keyring: in front of the Secret Service, \(entries)")
            } else {
                details.append("kernel keyring: \(entries), while the Secret Service cannot be used")
            }
            do {
                if try kernel.generationFile.read() == nil {
                    details.append("kernel keyring generation: \(kernel.generationFile.path) is not written yet, so no copy answers until "
                                   + "a `get` that reaches the kernel keyring writes it")
                }
            } catch {
                details.append("\(error); no kernel keyring copy is used until a `get` replaces it")
            }
            if kernel.refusal == nil, let quota = KernelKeyringStore.quota() {
                let full = quota.maximumBytes - quota.bytes < 3000 || quota.keys >= quota.maximumKeys
                details.append("kernel keyring quota: \(quota.bytes) of \(quota.maximumBytes) bytes, \(quota.keys) of \(quota.maximumKeys) keys"
                               + (full ? " (full: new entries push out the ones that expire soonest; raise kernel.keys.maxbytes)" : ""))
            }
        }
        let now = clock.now().timeIntervalSince1970
        for store in stores.everything {
            do {
                for record in try store.allRecords() where registry == nil || record.registry == registry?.host {
                    let expiry = record.expiresAt.map { Timestamp.iso8601(Date(timeIntervalSince1970: $0)) } ?? "no expiry"
                    let state = record.isUsable(at: now, margin: 0) ? (record.kind == .token && !record.isFresh(at: now) ? "past its refresh point" : "valid") : "expired"
                    details.append("\(store.name): \(record.kind.rawValue) for \(record.serverURL), \(state), expires \(expiry)")
                }
            } catch {
                status = .warning
                details.append("\(store.name): cannot be read: \(error)")
            }
        }
        return Check(name: "cache", status: status, summary: summary, details: details,
                     hint: status == .ok ? nil : "unlock the keyring, or set DOCKER_CREDENTIAL_ECR_CACHE=file")
    }

    private func tokenCheck(registry: ECRRegistry, steps: [CredentialChain.Step], provider: (any CredentialProvider)?) -> (Check, IssuedToken?) {
        // A live test: the cache is bypassed, so this really asks ECR.
        let service = TokenService(settings: configuration.tokens, cache: .disabled, environment: environment,
                                   transport: transport, clock: clock, diagnostics: diagnostics)
        var details: [String] = []
        let context = service.credentialContext(for: registry)
        if let endpoint = try? ECRClient(sender: context.sender, endpoints: context.endpoints()).endpoint(for: registry) {
            details.append("ECR endpoint \(endpoint)")
        }
        do {
            let token = try service.token(for: registry)
            let expiry = token.expiresAt.map { Timestamp.iso8601(Date(timeIntervalSince1970: $0)) } ?? "an unknown time"
            return (Check(name: "token", status: .ok, summary: "ECR issued a token for \(registry.host), valid until \(expiry)",
                          details: details, hint: nil), token)
        } catch {
            return (Check(name: "token", status: .problem, summary: "\(error)", details: details,
                          hint: Self.hint(for: error, steps: steps, provider: provider, now: clock.now())), nil)
        }
    }

    // MARK: hints

    /// What to do about `error`, decided from the error values it carries.
    static func hint(for error: any Error, steps: [CredentialChain.Step], provider: (any CredentialProvider)?, now: Date) -> String? {
        let service = Failure.first(AWSServiceError.self, in: error)
        let credential = Failure.first(CredentialError.self, in: error)
        if let service {
            switch service.code {
            case "AccessDenied", "AccessDeniedException":
                let who = ECRClient.principal(in: service.message).map { "\($0) " } ?? "the principal "
                return "\(who)needs ecr:GetAuthorizationToken: attach the managed policy AmazonEC2ContainerRegistryPullOnly; pulls through a "
                    + "pull-through cache repository also need ecr:BatchImportUpstreamImage, which AmazonEC2ContainerRegistryReadOnly lacks"
            case "UnrecognizedClientException", "InvalidClientTokenId":
                return "AWS does not know the access key id from \(provider?.name ?? "the credentials in use"): it was deleted, belongs to "
                    + "another partition, or is a session key without its session token"
            case "InvalidSignatureException", "SignatureDoesNotMatch":
                if service.message.lowercased().contains("expired") || service.message.contains("not yet current") {
                    if let text = service.responseDate, let theirs = HTTPDate.parse(text) {
                        let skew = Int((now.timeIntervalSince1970 - theirs.timeIntervalSince1970).rounded())
                        return "the clock is off by \(abs(skew)) seconds (\(skew > 0 ? "ahead of" : "behind") AWS, measured from the answer's Date); "
                            + "correct it (chrony, systemd-timesyncd)"
                    }
                    return "the clock is off: correct it (chrony, systemd-timesyncd)"
                }
                return "the secret access key does not match the access key id from \(provider?.name ?? "the credentials in use")"
            case "ExpiredToken", "ExpiredTokenException":
                return "the session credentials from \(provider?.name ?? "the credentials in use") have expired: refresh them"
            default:
                break
            }
        }
        if let credential {
            if let profile = credential.ssoLoginRequired {
                return "run `aws sso login --profile \(profile)`"
            }
            if credential.code == .notConfigured {
                return "tried, in order: " + steps.map { "\($0.source) (\($0.outcome))" }.joined(separator: "; ")
                    + "; set AWS_PROFILE to a profile with credentials, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            }
        }
        if Failure.isTransient(error) {
            return PullFinding.transientHint
        }
        return nil
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

/// HTTP dates (`Mon, 23 Nov 2026 14:39:17 GMT`), the `Date` header AWS answers with.
enum HTTPDate {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The time of an IMF-fixdate; nil for anything else.
    static func parse(_ text: String) -> Date? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]), let month = months.firstIndex(of: String(parts[2])),
              let year = Int(parts[3]), (1970...9999).contains(year), (1...31).contains(day)
        else { return nil }
        let clock = parts[4].split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3, (0..<24).contains(clock[0]), (0..<60).contains(clock[1]), (0...60).contains(clock[2]) else { return nil }
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let stamp = "\(year)-\(two(month + 1))-\(two(day))T\(two(clock[0])):\(two(clock[1])):\(two(clock[2]))Z"
        return Timestamp.parseISO8601(stamp)
    }
}
