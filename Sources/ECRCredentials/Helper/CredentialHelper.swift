// The docker credential helper actions: get, store, erase, list.
import Crypto
import FoundationEssentials

/// Carries out the helper protocol's actions for docker, nerdctl, podman and friends.
///
/// `get` for an ECR host answers, in order: a login handed over by `store` while it lasts; a cached
/// token of the current AWS identity while it is fresh; a new token from ECR. The cache hit costs
/// no AWS call and loads no network library. For any other host it answers only stored logins.
public struct CredentialHelper: Sendable {
    /// The settings.
    public let configuration: HelperConfiguration
    private let environment: Environment
    private let transport: any HTTPTransport
    private let clock: any WallClock
    private let diagnostics: Diagnostics
    private let awsConfiguration: ConfigurationLoader
    private let injectedStores: CredentialStores?

    /// Creates a helper.
    /// - Parameters:
    ///   - transport: the network; only used when a token must be fetched.
    ///   - stores: the stores to use; by default chosen per `configuration.cacheBackend` for each action.
    public init(configuration: HelperConfiguration, environment: Environment, transport: any HTTPTransport,
                clock: any WallClock = SystemClock(), diagnostics: Diagnostics = Diagnostics(), stores: CredentialStores? = nil) {
        self.configuration = configuration
        self.environment = environment
        self.transport = transport
        self.clock = clock
        self.diagnostics = diagnostics
        self.awsConfiguration = ConfigurationLoader(environment: environment)
        self.injectedStores = stores
    }

    /// The stores for one action; `everyBackend` for actions that must reach all of them.
    private func stores(everyBackend: Bool = false) -> CredentialStores {
        injectedStores ?? CredentialStores.select(configuration, environment: environment, diagnostics: diagnostics,
                                                  everyBackend: everyBackend)
    }

    // MARK: get

    /// The credentials for `serverURL`.
    /// - Throws: `HelperError`: `.missingServerURL` for empty input, `.notFound` (with the cause
    ///   for ECR hosts) when there are none.
    public func get(_ serverURL: String) throws -> HelperCredential {
        let input = serverURL.trimmingASCIIWhitespace()
        guard !input.isEmpty else { throw HelperError.missingServerURL }
        guard let address = try? RegistryAddress(parsing: input) else {
            diagnostics.debug("\"\(input)\" is not a registry address")
            throw HelperError.notFound()
        }
        let key = Self.registryKey(address)
        let now = clock.now().timeIntervalSince1970
        let stores = stores()
        for source in stores.loginSources {
            let started = MonotonicTime.seconds()
            let login = try? source.record(kind: .login, registry: key, identity: "")
            diagnostics.debug("\(key): login lookup (\(source.name)) took \(Self.milliseconds(since: started)) ms")
            if let login, login.isUsable(at: now) {
                diagnostics.debug("\(key): using the login stored by `store` (\(source.name))")
                return HelperCredential(serverURL: input, username: login.username, secret: login.secret)
            }
        }
        guard let registry = ECRRegistry(address: address) else {
            diagnostics.debug("\(key) is not an ECR registry")
            throw HelperError.notFound()
        }
        if configuration.cacheBackend == .keyring, let problem = stores.keyringProblem {
            diagnostics.warning("\(problem); the token is not cached")
        }
        do {
            if let problem = configuration.toolConfigError { throw HelperError.notFound(cause: "\(registry.host): \(problem)") }
            return try token(for: registry, key: key, serverURL: input, now: now, tokens: stores.tokens)
        } catch let error as HelperError {
            throw error
        } catch {
            throw HelperError.notFound(cause: "\(registry.host): \(error)")
        }
    }

    private func token(for registry: ECRRegistry, key: String, serverURL: String, now: Double,
                       tokens: (any CredentialStore)?) throws -> HelperCredential {
        let sender = AWSRequestSender(transport: transport, clock: clock, diagnostics: diagnostics)
        let context = CredentialContext(environment: environment, configuration: awsConfiguration, sender: sender,
                                        fallbackRegion: registry.region)
        let resolution = try RegistryCredentialResolver(context: context, settings: configuration.toolConfig).resolve(for: registry)
        let provider = resolution.provider
        let client = ECRClient(sender: sender, endpoints: context.endpoints(profile: resolution.profile))
        let endpoint = try client.endpoint(for: registry)
        let identity = Self.fingerprint(provider.identity, endpoint: endpoint)
        diagnostics.debug("\(registry.host): credentials from \(provider.name), token endpoint \(endpoint)")

        func answer(_ record: CredentialRecord) -> HelperCredential {
            HelperCredential(serverURL: serverURL, username: record.username, secret: record.secret)
        }
        guard let tokens else {
            return answer(try fetch(registry, key: key, identity: identity, provider: provider, client: client))
        }
        let cached = readToken(tokens, key: key, identity: identity)
        if let cached, cached.isFresh(at: now) {
            diagnostics.debug("\(registry.host): cache hit (\(tokens.name)), expires \(Timestamp.iso8601(Date(timeIntervalSince1970: cached.expiresAt ?? 0)))")
            return answer(cached)
        }

        // One process fetches; the others wait for its result instead of calling ECR too.
        let lock: FileLock?
        do {
            lock = try self.lock(for: key, identity: identity)
        } catch {
            diagnostics.debug("\(registry.host): fetching without the lock: \(error)")
            lock = nil
        }
        defer { withExtendedLifetime(lock) {} }
        if lock != nil, let current = readToken(tokens, key: key, identity: identity), current.isFresh(at: clock.now().timeIntervalSince1970) {
            diagnostics.debug("\(registry.host): another process fetched the token")
            return answer(current)
        }
        do {
            let record = try fetch(registry, key: key, identity: identity, provider: provider, client: client)
            let stamp = clock.now().timeIntervalSince1970
            if record.isFresh(at: stamp) {
                do {
                    try tokens.save(record)
                    if tokens is KeyringCredentialStore {
                        // Tokens live in the keyring now: no copy of this registry's may stay in a file.
                        try? FileCredentialStore(directory: configuration.tokenDirectory).removeAll(registry: key)
                    }
                } catch {
                    diagnostics.warning("\(registry.host): could not cache the token: \(error)")
                }
            } else {
                diagnostics.debug("\(registry.host): ECR issued a token that is already past half its life (clock skew?); not caching it")
            }
            return answer(record)
        } catch {
            let stamp = clock.now().timeIntervalSince1970
            if let cached, cached.isUsable(at: stamp, margin: configuration.staleTokenMargin), Self.isTransient(error) {
                diagnostics.warning("\(registry.host): refreshing the token failed (\(error)); using the cached one, valid until \(Timestamp.iso8601(Date(timeIntervalSince1970: cached.expiresAt ?? 0)))")
                return answer(cached)
            }
            throw error
        }
    }

    /// The cross-process lock of one registry and identity, waited for at most `lockTimeout`.
    private func lock(for key: String, identity: String) throws -> FileLock {
        try PrivateFile.makeDirectory(configuration.lockDirectory)
        return try FileLock(path: "\(configuration.lockDirectory)/\(FileCredentialStore.fileStem(key))@\(identity).lock",
                            timeout: configuration.lockTimeout)
    }

    private func readToken(_ store: any CredentialStore, key: String, identity: String) -> CredentialRecord? {
        do {
            let started = MonotonicTime.seconds()
            defer { diagnostics.debug("\(key): token lookup (\(store.name)) took \(Self.milliseconds(since: started)) ms") }
            return try store.record(kind: .token, registry: key, identity: identity)
        } catch {
            diagnostics.warning("cannot read the token cache: \(error)")
            return nil
        }
    }

    private func fetch(_ registry: ECRRegistry, key: String, identity: String, provider: any CredentialProvider,
                       client: ECRClient) throws -> CredentialRecord {
        let credentials = try provider.credentials()
        let issued = clock.now().timeIntervalSince1970
        let token = try client.authorizationToken(for: registry, credentials: credentials)
        diagnostics.debug("\(registry.host): fetched a token valid until \(Timestamp.iso8601(token.expiresAt))")
        return CredentialRecord(kind: .token, registry: key, serverURL: registry.host, identity: identity,
                                username: token.username, secret: token.password, issuedAt: issued,
                                expiresAt: token.expiresAt.timeIntervalSince1970)
    }

    static func isTransient(_ error: any Error) -> Bool {
        if let error = error as? HTTPTransportError { return error.isTransient }
        if let error = error as? AWSServiceError { return error.isRetryable }
        return false
    }

    // MARK: store, erase, list

    /// Keeps the credentials a client hands over (the JSON `store` reads from stdin).
    /// - Throws: `HelperError` for malformed input or when they cannot be kept.
    public func store(_ input: [UInt8]) throws {
        struct Request: Decodable {
            var ServerURL: String?
            var Username: String?
            var Secret: String?
        }
        let request: Request
        do {
            request = try JSONDecoder().decode(Request.self, from: Data(input))
        } catch {
            throw HelperError(.invalidInput, message: "store expects JSON {\"ServerURL\":...,\"Username\":...,\"Secret\":...} on stdin")
        }
        guard let serverURL = request.ServerURL?.trimmingASCIIWhitespace(), !serverURL.isEmpty else {
            throw HelperError.missingServerURL
        }
        guard let username = request.Username, !username.isEmpty else { throw HelperError.missingUsername }
        let address: RegistryAddress
        do {
            address = try RegistryAddress(parsing: serverURL)
        } catch {
            throw HelperError(.invalidInput, message: "\(error)")
        }
        guard !configuration.ignoreStorage else { return }
        let secret = request.Secret ?? ""
        let now = clock.now().timeIntervalSince1970
        var expiresAt: Double?
        if ECRRegistry(address: address) != nil {
            // ECR passwords carry their expiry; assume ECR's 12 hours when one does not.
            expiresAt = ECRPassword.expiration(of: secret) ?? now + 12 * 3600
        }
        let record = CredentialRecord(kind: .login, registry: Self.registryKey(address), serverURL: serverURL, identity: "",
                                      username: username, secret: secret, issuedAt: now, expiresAt: expiresAt)
        let stores = stores()
        guard let target = stores.loginTarget else {
            throw HelperError(.failed, message: "cannot store the credentials for \(record.registry): \(stores.keyringProblem ?? "no store")")
        }
        do {
            let lock = try? self.lock(for: record.registry, identity: "login")
            defer { withExtendedLifetime(lock) {} }
            try target.save(record)
            if target is KeyringCredentialStore {
                try? FileCredentialStore(directory: configuration.loginDirectory).remove(kind: .login, registry: record.registry, identity: "")
            }
        } catch {
            throw HelperError(.failed, message: "cannot store the credentials for \(record.registry): \(error)")
        }
    }

    /// Forgets everything kept for `serverURL` (logins and cached tokens of every identity).
    /// Succeeds when nothing was kept, as `podman logout --all` requires.
    /// - Throws: `HelperError` for empty input or when a file cannot be removed.
    public func erase(_ serverURL: String) throws {
        let input = serverURL.trimmingASCIIWhitespace()
        guard !input.isEmpty else { throw HelperError.missingServerURL }
        guard !configuration.ignoreStorage, let address = try? RegistryAddress(parsing: input) else { return }
        let key = Self.registryKey(address)
        do {
            var removed = 0
            for store in stores(everyBackend: true).everything {
                removed += try store.removeAll(registry: key)
            }
            diagnostics.debug("\(key): erased \(removed) entries")
        } catch {
            throw HelperError(.failed, message: "cannot erase the credentials for \(key): \(error)")
        }
    }

    /// The registries with usable credentials, server URL to user name; no network is used.
    /// Expired records are removed on the way.
    public func list() throws -> [String: String] {
        var result: [String: String] = [:]
        let now = clock.now().timeIntervalSince1970
        for store in stores(everyBackend: true).everything {
            let records: [CredentialRecord]
            do {
                records = try store.allRecords()
            } catch {
                throw HelperError(.failed, message: "cannot list the credentials: \(error)")
            }
            for record in records {
                if record.isUsable(at: now, margin: 0) {
                    result[record.serverURL] = record.username
                } else {
                    try? store.remove(kind: record.kind, registry: record.registry, identity: record.identity)
                }
            }
        }
        return result
    }

    static func milliseconds(since start: Double) -> String {
        let tenths = Int(((MonotonicTime.seconds() - start) * 10_000).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    // MARK: keys

    /// The key records are kept under: the host, with the port unless it is 443, so that every
    /// form nerdctl tries (`host`, `host:443`, `https://host:443`, ...) finds the same entry.
    public static func registryKey(_ address: RegistryAddress) -> String {
        var normalised = address
        if normalised.port == 443 { normalised.port = nil }
        return normalised.description
    }

    /// A short fingerprint of an identity and the endpoint its tokens come from.
    static func fingerprint(_ identity: String, endpoint: Endpoint) -> String {
        let digest = SHA256.hash(data: Array("docker-credential-ecr/1\0\(identity)\0\(endpoint)".utf8))
        return Hex.encode(digest.prefix(16))
    }
}
