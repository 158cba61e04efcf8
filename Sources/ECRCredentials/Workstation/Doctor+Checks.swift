// The checks of `doctor`, one per link from docker's config file to a live token.

#if canImport(Glibc)
import Glibc
#endif

extension Doctor {
    func registryCheck(_ input: String) -> (Check, ECRRegistry?) {
        do {
            let host = try RegistryList.host(input)
            return (Check(name: "registry", status: .ok, summary: host, details: [], hint: nil), ECRRegistry(host: host))
        } catch {
            let suggestion = RegistryList.suggestion(for: input)
            return (Check(name: "registry", status: .problem, summary: "\(error)", details: [],
                          hint: suggestion.map { "use \($0)" } ?? "ECR registries are ACCOUNT.dkr.ecr.REGION.amazonaws.com (or public.ecr.aws)"), nil)
        }
    }

    func dockerConfigCheck(registry: ECRRegistry?) -> Check {
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
    func credentialsCheck(context: CredentialContext, registry: ECRRegistry?)
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
        summary = "\(error)".containsText(provider.name) ? "\(error)" : "\(provider.name): \(error)"
        return (Check(name: "credentials", status: .problem, summary: summary, details: details,
                      hint: Self.hint(for: error, steps: steps, provider: provider, now: clock.now())), provider, steps, credentials)
    }

    func identityCheck(context: CredentialContext, provider: any CredentialProvider, steps: [CredentialChain.Step],
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

    func cacheCheck(stores: CredentialStores, registry: ECRRegistry?) -> Check {
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
                    let expiry = record.expiresAt.map { Timestamp.iso8601(Timestamp(timeIntervalSince1970: $0)) } ?? "no expiry"
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

    func tokenCheck(registry: ECRRegistry, steps: [CredentialChain.Step], provider: (any CredentialProvider)?) -> (Check, IssuedToken?) {
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
            let expiry = token.expiresAt.map { Timestamp.iso8601(Timestamp(timeIntervalSince1970: $0)) } ?? "an unknown time"
            return (Check(name: "token", status: .ok, summary: "ECR issued a token for \(registry.host), valid until \(expiry)",
                          details: details, hint: nil), token)
        } catch {
            return (Check(name: "token", status: .problem, summary: "\(error)", details: details,
                          hint: Self.hint(for: error, steps: steps, provider: provider, now: clock.now())), nil)
        }
    }
}
