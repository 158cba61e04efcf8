// The docker credential helper actions: get, store, erase, list.

/// Carries out the helper protocol's actions for docker, nerdctl, podman and friends.
///
/// `get` for an ECR host answers, in order: a login handed over by `store` while it lasts; a
/// token from the `TokenService` (cached, fetched, or a still-valid one when a refresh fails for
/// a passing reason). For any other host it answers only stored logins. This type holds the
/// protocol's side only: stored logins, docker's texts and exit codes.
package struct CredentialHelper: Sendable {
    /// The settings.
    package var configuration: HelperConfiguration { context.configuration }
    private let context: HelperContext
    private let awsConfiguration: ConfigurationLoader
    private var environment: Environment { context.environment }
    private var diagnostics: Diagnostics { context.diagnostics }
    private var clock: any WallClock { context.clock }

    /// Creates a helper on the run's shared parts.
    /// - Parameter awsConfiguration: the AWS config files; by default those the environment names.
    package init(_ context: HelperContext, awsConfiguration: ConfigurationLoader? = nil) {
        self.context = context
        self.awsConfiguration = awsConfiguration ?? ConfigurationLoader(environment: context.environment)
    }

    /// - Parameters:
    ///   - transport: the network; only used when a token must be fetched.
    ///   - stores: the stores to use; by default chosen per `configuration.cacheBackend` for each action.
    ///   - boundaries: what the default stores reach (session bus, Secret Service, kernel key calls).
    ///   - awsConfiguration: the AWS config files; by default those the environment names.
    package init(configuration: HelperConfiguration, environment: Environment, transport: any HTTPTransport,
                clock: any WallClock = SystemClock(), diagnostics: Diagnostics = Diagnostics(), stores: CredentialStores? = nil,
                boundaries: CredentialStores.Boundaries = CredentialStores.Boundaries(), awsConfiguration: ConfigurationLoader? = nil) {
        self.init(HelperContext(configuration: configuration, environment: environment, transport: transport, clock: clock,
                                diagnostics: diagnostics, stores: stores, boundaries: boundaries),
                  awsConfiguration: awsConfiguration)
    }

    /// The stores for one action; `everyBackend` for actions that must reach all of them.
    private func stores(everyBackend: Bool = false, kernelTier: CredentialStores.KernelTier = .configured) -> CredentialStores {
        context.stores(everyBackend: everyBackend, kernelTier: kernelTier)
    }

    // MARK: get

    /// The credentials for `serverURL`.
    ///
    /// One pass: the kernel keyring tier (when keyring mode has one) is asked first, on its own;
    /// the Secret Service is opened only when the tier does not know the answer, and what the
    /// tier answered is carried to it rather than asked again. The login files are read once, the
    /// registry's identity is resolved once, and one `TokenService` serves the request.
    /// - Throws: `HelperError`: `.missingServerURL` for empty input, `.notFound` (with the cause
    ///   for ECR hosts, as text for stderr and as the underlying error) when there are none.
    package func get(_ serverURL: String) throws -> HelperCredential {
        let input = serverURL.trimmingASCIIWhitespace()
        guard !input.isEmpty else { throw HelperError.missingServerURL }
        guard let address = try? RegistryAddress(parsing: input) else {
            diagnostics.debug("\"\(input)\" is not a registry address")
            throw HelperError.notFound()
        }
        let key = Self.registryKey(address)
        let now = clock.now().timeIntervalSince1970
        var kernel: KernelKeyringStore?
        if context.stores == nil, configuration.cacheBackend == .auto || configuration.cacheBackend == .keyring {
            kernel = CredentialStores.kernelTier(configuration, environment: environment, diagnostics: diagnostics,
                                                 sessionBus: context.boundaries.sessionBus, keys: context.boundaries.kernelKeys)
        }
        let answered = KernelTierAnswers()
        var kernelLogin = KernelKeyringStore.LoginState.unknown
        if let kernel {
            kernelLogin = timed(key, "login", kernel.name) { kernel.loginState(registry: key) }
            answered.noteLogin(kernelLogin, registry: key)
        }
        // The Secret Service, only when the kernel tier does not know whether it holds a login.
        var stores: CredentialStores?
        if kernel == nil || kernelLogin == .unknown { stores = self.stores(kernelTier: kernel.map { .given($0, answered: answered) } ?? .off) }
        if let login = newestLogin(key, kernelLogin: kernelLogin, stores: stores, now: now) {
            return HelperCredential(serverURL: input, username: login.username, secret: login.secret)
        }
        guard let registry = ECRRegistry(address: address) else {
            diagnostics.debug("\(key) is not an ECR registry")
            throw HelperError.notFound()
        }
        let service = TokenService(settings: configuration.tokens, cache: stores?.tokens ?? .disabled, environment: environment,
                                   transport: context.transport, clock: clock, diagnostics: diagnostics,
                                   awsConfiguration: awsConfiguration)
        do {
            let lookup = try service.lookup(registry)
            if stores == nil, let kernel {
                // The kernel tier knows the login: a fresh token there answers without the Secret Service.
                let read = service.cachedToken(lookup, in: kernel)
                if let hit = read.hit { return HelperCredential(serverURL: input, username: hit.username, secret: hit.password) }
                answered.noteToken(read.record, registry: registry.host, identity: lookup.fingerprint)
            }
            let cache = (stores ?? self.stores(kernelTier: kernel.map { .given($0, answered: answered) } ?? .off)).tokens
            let token = try service.token(lookup, cache: cache)
            return HelperCredential(serverURL: input, username: token.username, secret: token.password)
        } catch {
            throw HelperError.notFound(cause: "\(registry.host): \(error)", underlying: error)
        }
    }

    /// The newest usable login for `key`, each source read once: the kernel tier's (when it knows
    /// it) or the Secret Service's, and the login files. The newest wins: one stored in a file
    /// while the keyring was locked is newer than the keyring's, once it is unlocked again; on a
    /// tie the keyring's.
    private func newestLogin(_ key: String, kernelLogin: KernelKeyringStore.LoginState, stores: CredentialStores?,
                             now: Double) -> CredentialRecord? {
        var newest: (login: CredentialRecord, source: String)?
        if case .stored(let login) = kernelLogin, stores == nil, login.isUsable(at: now) { newest = (login, "kernel keyring") }
        func consider(_ source: any CredentialStore) {
            let login: CredentialRecord? = timed(key, "login", source.name, tiered: source is TieredKeyringStore) {
                do {
                    return try source.record(kind: .login, registry: key, identity: "")
                } catch {
                    diagnostics.warning("\(key): cannot read the logins kept in the \(source.name) store: \(error)")
                    return nil
                }
            }
            if let login, login.isUsable(at: now), login.issuedAt > newest?.login.issuedAt ?? -.infinity {
                newest = (login, source.name)
            }
        }
        if let stores {
            for source in stores.loginSources { consider(source) }
        } else {
            consider(FileCredentialStore(directory: configuration.loginDirectory, diagnostics: diagnostics))
        }
        guard let (login, source) = newest else { return nil }
        diagnostics.debug("\(key): using the login stored by `store` (\(source))")
        return login
    }

    /// Runs one lookup of one tier, with its debug line: "KEY: KIND lookup (TIER) took N ms".
    /// The tiered keyring (`TieredKeyringStore`) writes the lines of its own tiers instead.
    private func timed<T>(_ key: String, _ kind: String, _ tier: String, tiered: Bool = false, _ lookup: () -> T) -> T {
        let started = MonotonicTime.seconds()
        let result = lookup()
        if !tiered { diagnostics.debug("\(key): \(kind) lookup (\(tier)) took \(TokenService.milliseconds(since: started)) ms") }
        return result
    }

    // MARK: store, erase, list

    /// Keeps the credentials a client hands over (the JSON `store` reads from stdin).
    ///
    /// Input that is no registry login keeps nothing: a server URL whose host is not a registry
    /// host (`RegistryAddress(parsing:)`), or no user name or secret.
    /// - Throws: `HelperError` for malformed input (`.missingServerURL`, `.missingUsername`,
    ///   `.missingSecret`, `.invalidInput`) or when they cannot be kept.
    package func store(_ input: [UInt8]) throws {
        struct Request: Decodable {
            var ServerURL: String?
            var Username: String?
            var Secret: String?
        }
        let request: Request
        do {
            request = try JSONInput.decode(Request.self, from: input)
        } catch {
            throw HelperError(.invalidInput, message: "store expects JSON {\"ServerURL\":...,\"Username\":...,\"Secret\":...} on stdin")
        }
        guard let serverURL = request.ServerURL?.trimmingASCIIWhitespace(), !serverURL.isEmpty else {
            throw HelperError.missingServerURL
        }
        guard let username = request.Username, !username.isEmpty else { throw HelperError.missingUsername }
        // A login without a secret is no login: nothing a client sends (docker, podman, nerdctl,
        // and docker's identity-token logins as user `<token>`) lacks one.
        guard let secret = request.Secret, !secret.isEmpty else { throw HelperError.missingSecret }
        let address: RegistryAddress
        do {
            address = try RegistryAddress(parsing: serverURL)
        } catch {
            throw HelperError(.invalidInput, message: "\(error)", underlying: error)
        }
        // A password there would be kept in the stored ServerURL and shown by `list`.
        if let part = RegistryAddress.extraneousPart(serverURL) {
            throw HelperError(.invalidInput, message: "the ServerURL carries \(part); "
                + "store takes the user name and secret as Username and Secret, and the registry as \(address)")
        }
        guard !configuration.ignoreStorage else { return }
        let now = clock.now().timeIntervalSince1970
        var expiresAt: Double?
        if ECRRegistry(address: address) != nil {
            // ECR passwords carry their expiry; assume ECR's 12 hours when one does not.
            expiresAt = ECRPassword.expiration(of: secret) ?? now + 12 * 3600
        }
        let record = CredentialRecord(kind: .login, registry: Self.registryKey(address), serverURL: serverURL, identity: "",
                                      username: username, secret: secret, issuedAt: now, expiresAt: expiresAt)
        let stores = stores()
        guard var target = stores.loginTarget else {
            throw HelperError(.failed, message: "cannot store the credentials for \(record.registry): \(stores.keyringProblem.map { "\($0)" } ?? "no store")",
                              underlying: stores.keyringProblem)
        }
        let loginFiles = FileCredentialStore(directory: configuration.loginDirectory, diagnostics: diagnostics)
        if configuration.cacheBackend == .auto, target is FileCredentialStore,
           let problem = stores.keyringProblem as? KeyringCredentialStore.Unavailable, problem.refused {
            // A keyring that is there but cannot be used without a prompt: say why, once per store.
            diagnostics.warning("\(record.registry): kept in the private file, not in the keyring: \(problem.reason)")
        }
        do {
            let lock = try? FileLock(path: try loginLockPath(record.registry), timeout: configuration.tokens.lockTimeout, clock: clock)
            defer { withExtendedLifetime(lock) {} }
            do {
                try target.save(record)
            } catch let refusal as any KeyringCredentialStore.NotKept where configuration.cacheBackend == .auto {
                diagnostics.warning("\(record.registry): kept in the private file, not in the keyring: \(refusal)")
                target = loginFiles
                try target.save(record)
            }
        } catch {
            throw HelperError(.failed, message: "cannot store the credentials for \(record.registry): \(error)", underlying: error)
        }
        if !(target is TieredKeyringStore), let kernel = stores.everything.lazy.compactMap({ $0 as? KernelKeyringStore }).first {
            // Stored without the kernel tier: an older copy there (or its note that there is no
            // login) must not answer instead.
            do {
                try kernel.remove(kind: .login, registry: record.registry, identity: "")
            } catch {
                diagnostics.warning("\(record.registry): could not remove the older login from the kernel keyring: \(error)")
            }
        }
        if !(target is FileCredentialStore) {
            // The login lives in the keyring now: no older copy may stay in a file.
            do {
                try FileCredentialStore(directory: configuration.loginDirectory, diagnostics: diagnostics)
                    .remove(kind: .login, registry: record.registry, identity: "")
            } catch {
                diagnostics.warning("\(record.registry): could not remove the older login file: \(error)")
            }
        }
    }

    /// Forgets everything kept for `serverURL` (logins and cached tokens of every identity).
    /// Succeeds when nothing was kept, as `podman logout --all` requires. A fetch of the host's
    /// token (or a `store` of its login) still running is waited for, up to the lock timeout, so
    /// that what it saves is erased too.
    /// - Throws: `HelperError` for empty input, when a file cannot be removed, when the keyring
    ///   is out of reach, or when a fetch or `store` was still running at the lock timeout
    ///   (its underlying error is then `RegistryLocks.Busy`).
    package func erase(_ serverURL: String) throws {
        let input = serverURL.trimmingASCIIWhitespace()
        guard !input.isEmpty else { throw HelperError.missingServerURL }
        guard !configuration.ignoreStorage, let address = try? RegistryAddress(parsing: input) else { return }
        let key = Self.registryKey(address)
        let stores = stores(everyBackend: true)
        // The locks `store` and fetches hold: an erase never lands between a store's keyring and
        // kernel writes, and a fetch still running cannot save its token after the erase.
        let held = RegistryLocks(directory: configuration.tokens.lockDirectory)
            .hold(registries: [key], logins: true, timeout: configuration.tokens.lockTimeout, clock: clock, diagnostics: diagnostics)
        defer { withExtendedLifetime(held) {} }
        do {
            var removed = 0
            for store in stores.everything {
                removed += try store.removeAll(registry: key)
            }
            diagnostics.debug("\(key): erased \(removed) entries")
        } catch {
            throw HelperError(.failed, message: "cannot erase the credentials for \(key): \(error)", underlying: error)
        }
        // A locked or hung keyring may still hold them: saying they are gone would be wrong.
        // Its items' attributes can be searched while it is locked: when they show none for this
        // host, there was nothing to erase there (docker's "not found" is success for erase).
        if let problem = stores.unreachableKeyring(holding: [key]) {
            throw HelperError(.failed, message: "cannot erase the credentials for \(key) kept in the keyring: \(problem) "
                                  + "(the other copies are gone; erase again once \(problem.retryCondition))", underlying: problem)
        }
        // A fetch or `store` still running after the lock timeout may save after this erase.
        if let first = held.busy.first {
            throw HelperError(.failed, message: "cannot be sure the credentials for \(key) are gone: "
                                  + "\(held.busy.map { "\($0)" }.joined(separator: "; ")), and what it saves may stay "
                                  + "(the copies kept now are gone; erase again once it has finished)", underlying: first)
        }
    }

    /// The registries with usable credentials, server URL to user name; no network is used.
    /// Expired records are removed on the way.
    package func list() throws -> [String: String] {
        var result: [String: String] = [:]
        let now = clock.now().timeIntervalSince1970
        for store in stores(everyBackend: true).everything {
            let records: [CredentialRecord]
            do {
                records = try store.allRecords()
            } catch {
                throw HelperError(.failed, message: "cannot list the credentials: \(error)", underlying: error)
            }
            for record in records {
                if record.isUsable(at: now, margin: 0) {
                    result[RegistryAddress.displayForm(record.serverURL)] = record.username
                } else {
                    removeIfExpired(kind: record.kind, registry: record.registry, identity: record.identity, in: store, now: now)
                }
            }
        }
        return result
    }

    /// Removes the record kept under these fields, but only if that record itself has expired:
    /// an expired stray copy elsewhere never takes a live record with it.
    private func removeIfExpired(kind: CredentialRecord.Kind, registry: String, identity: String, in store: any CredentialStore,
                                 now: Double) {
        do {
            guard let kept = try store.record(kind: kind, registry: registry, identity: identity),
                  !kept.isUsable(at: now, margin: 0)
            else { return }
            try store.remove(kind: kind, registry: registry, identity: identity)
        } catch {
            diagnostics.debug("\(registry): could not remove an expired entry from the \(store.name) store: \(error)")
        }
    }

    /// The lock that serialises `store` of one registry's login.
    private func loginLockPath(_ registry: String) throws -> String {
        try PrivateFile.makeDirectory(configuration.tokens.lockDirectory)
        return RegistryLocks(directory: configuration.tokens.lockDirectory).path(registry: registry, holder: .store)
    }

    // MARK: keys

    /// The key records are kept under: the host, with the port unless it is 443, so that every
    /// form nerdctl tries (`host`, `host:443`, `https://host:443`, ...) finds the same entry.
    package static func registryKey(_ address: RegistryAddress) -> String {
        var normalised = address
        if normalised.port == 443 { normalised.port = nil }
        return normalised.description
    }
}
