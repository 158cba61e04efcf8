// The one way every front end gets an ECR token: cache, single flight, fetch, fallback.
import Crypto
import FoundationEssentials

/// Turns a registry and an identity into an ECR authorization token, with its expiry.
///
/// For each request it resolves the AWS identity from configuration alone (no network), then:
/// a cached token of that identity is served until its refresh point (40% to 60% of its life,
/// fixed per machine and registry: `RefreshSchedule`); otherwise one process fetches a new token
/// from ECR while the others wait on a file lock and take its result; if the refresh fails for a
/// passing reason (throttling, 5xx, timeouts, an unreachable STS, SSO portal or metadata service)
/// and the cached token still has `staleTokenMargin` seconds left, that token is served with a
/// warning. Only when there is no such token to fall back on does a throttled fetch keep trying
/// until `throttlingBudget` seconds after the request began (`ThrottlingBackoff`), and processes
/// waiting for the lock wait as long. An expired token is never served, and a final failure
/// (denied access, bad credentials, configuration errors) is never papered over.
///
/// The docker helper and the kubelet plugin are thin front ends over this type.
public struct TokenService: Sendable {
    /// Who fetches the token.
    public enum Identity: Sendable {
        /// The identity rules (`DOCKER_CREDENTIAL_ECR_PROFILE`/`_ROLE_ARN`, then the tool's config
        /// file), on top of the standard AWS credential chain.
        case configured
        /// A provider the front end built itself (for example a Kubernetes service account's web
        /// identity), with the profile whose endpoint settings apply.
        case provider(any CredentialProvider, profile: String?)
    }

    /// The settings.
    public let settings: TokenSettings
    private let cache: TokenCache
    private let environment: Environment
    private let transport: any HTTPTransport
    private let clock: any WallClock
    private let diagnostics: Diagnostics
    private let awsConfiguration: ConfigurationLoader
    private let random: any RandomSource
    /// When cached tokens are refreshed.
    public let schedule: RefreshSchedule

    /// Creates a service.
    /// - Parameters:
    ///   - cache: where tokens are kept for this run (`TokenCache.disabled` for none).
    ///   - transport: the network; used only when a token must be fetched.
    ///   - awsConfiguration: the AWS config files, read on first use; by default those the
    ///     environment names.
    ///   - random: the jitter of retries.
    ///   - machine: whose refresh point `settings.refreshWindow` draws (this machine by default).
    public init(settings: TokenSettings, cache: TokenCache, environment: Environment, transport: any HTTPTransport,
                clock: any WallClock = SystemClock(), diagnostics: Diagnostics = Diagnostics(),
                awsConfiguration: ConfigurationLoader? = nil, random: any RandomSource = SystemRandomSource(),
                machine: any MachineIdentity = SystemMachineIdentity()) {
        self.random = random
        self.schedule = RefreshSchedule(window: settings.refreshWindow, machine: machine)
        self.settings = settings
        self.cache = cache
        self.environment = environment
        self.transport = transport
        self.clock = clock
        self.diagnostics = diagnostics
        self.awsConfiguration = awsConfiguration ?? ConfigurationLoader(environment: environment)
    }

    /// The token for `registry`.
    /// - Throws: what resolving the identity or fetching threw, with its type intact:
    ///   `CredentialError`, `AWSServiceError`, `HTTPTransportError`, `ToolConfigFile` errors, ...
    public func token(for registry: ECRRegistry, identity: Identity = .configured) throws -> IssuedToken {
        let now = clock.now().timeIntervalSince1970
        let deadline = Date(timeIntervalSince1970: now + settings.throttlingBudget)
        if cache.store == nil, settings.cacheBackend == .keyring, let problem = cache.problem {
            diagnostics.warning("\(problem); the token is not cached")
        }
        let (provider, client, fingerprint) = try resolve(registry, identity: identity)

        guard let store = cache.store else {
            return IssuedToken(try fetch(registry, identity: fingerprint, provider: provider,
                                         client: client.retryingThrottling(settings.throttlingBudget > 0 ? ThrottlingBackoff(deadline: deadline) : nil)),
                               source: .fetched)
        }
        let cached = read(store, registry: registry.host, identity: fingerprint)
        if let cached, schedule.isFresh(cached, at: now) {
            diagnostics.debug("\(registry.host): cache hit (\(store.name)), expires \(Self.time(cached.expiresAt))")
            return IssuedToken(cached, source: .cache)
        }

        // With a still-valid token to fall back on, a throttled refresh gives up as quickly as
        // any other passing failure; without one, it keeps trying until the deadline.
        let canFallBack = cached?.isUsable(at: now, margin: settings.staleTokenMargin) ?? false
        let throttling = canFallBack || settings.throttlingBudget <= 0 ? nil : ThrottlingBackoff(deadline: deadline)
        // One process fetches; the others wait for its result instead of calling ECR too (as
        // long as a throttled holder may keep trying, when there is nothing to fall back on).
        let lockPath = self.lockPath(registry: registry.host, identity: fingerprint)
        let lock: FileLock?
        do {
            try PrivateFile.makeDirectory(settings.lockDirectory)
            let timeout = canFallBack ? settings.lockTimeout : max(settings.lockTimeout, settings.throttlingBudget)
            lock = try FileLock(path: lockPath, timeout: timeout, clock: clock)
        } catch let failure as FileLock.Failure {
            // The holder is still at it (a hanging endpoint): do not queue behind it for nothing.
            if let cached, cached.isUsable(at: clock.now().timeIntervalSince1970, margin: settings.staleTokenMargin) {
                diagnostics.warning("\(registry.host): another process has been refreshing the token for \(Int(failure.waited)) s; using the cached one, valid until \(Self.time(cached.expiresAt))")
                return IssuedToken(cached, source: .staleFallback)
            }
            diagnostics.debug("\(registry.host): fetching without the lock: \(failure)")
            lock = nil
        } catch {
            diagnostics.debug("\(registry.host): fetching without the lock: \(error)")
            lock = nil
        }
        defer { withExtendedLifetime(lock) {} }
        if let lock {
            if let current = read(store, registry: registry.host, identity: fingerprint), schedule.isFresh(current, at: clock.now().timeIntervalSince1970) {
                diagnostics.debug("\(registry.host): another process fetched the token")
                return IssuedToken(current, source: .cache)
            }
            // A process we waited for, or one a few seconds ago, failed for a passing reason:
            // repeating its calls now would only make every parallel pull wait as long again.
            let since = lock.waited > 0 ? now - 1 : clock.now().timeIntervalSince1970 - RecentFailure.lifetime
            if let failure = RecentFailure.read(lockPath + ".failed", since: since) {
                if let cached, cached.isUsable(at: clock.now().timeIntervalSince1970, margin: settings.staleTokenMargin) {
                    diagnostics.warning("\(registry.host): refreshing the token failed just now in another process (\(failure)); using the cached one, valid until \(Self.time(cached.expiresAt))")
                    return IssuedToken(cached, source: .staleFallback)
                }
                if lock.waited > 0 { throw failure }
            }
        }
        do {
            let record = try fetch(registry, identity: fingerprint, provider: provider, client: client.retryingThrottling(throttling))
            save(record, in: store)
            if lock != nil { try? PrivateFile.remove(lockPath + ".failed") }
            return IssuedToken(record, source: .fetched)
        } catch {
            if lock != nil, Failure.isTransient(error) {
                RecentFailure(description: "\(error)", at: clock.now().timeIntervalSince1970).write(to: lockPath + ".failed")
            }
            let stamp = clock.now().timeIntervalSince1970
            guard let cached, cached.isUsable(at: stamp, margin: settings.staleTokenMargin), Failure.isTransient(error) else {
                throw error
            }
            diagnostics.warning("\(registry.host): refreshing the token failed (\(error)); using the cached one, valid until \(Self.time(cached.expiresAt))")
            return IssuedToken(cached, source: .staleFallback)
        }
    }

    /// The cached token for `registry` while it is fresh, without locking, fetching or any
    /// network; nil when there is none. Front ends use it to answer from a fast tier first.
    /// - Throws: what resolving the identity threw (the tool's config file, a profile).
    public func cachedToken(for registry: ECRRegistry, identity: Identity = .configured) throws -> IssuedToken? {
        guard let store = cache.store else { return nil }
        let fingerprint = try resolve(registry, identity: identity).fingerprint
        guard let cached = read(store, registry: registry.host, identity: fingerprint),
              schedule.isFresh(cached, at: clock.now().timeIntervalSince1970)
        else { return nil }
        diagnostics.debug("\(registry.host): cache hit (\(store.name)), expires \(Self.time(cached.expiresAt))")
        return IssuedToken(cached, source: .cache)
    }

    /// Who fetches the token for `registry` (from configuration only), the ECR client of its
    /// endpoint, and the fingerprint its tokens are cached under.
    private func resolve(_ registry: ECRRegistry, identity: Identity) throws
        -> (provider: any CredentialProvider, client: ECRClient, fingerprint: String) {
        let context = credentialContext(for: registry)
        let sender = context.sender
        let provider: any CredentialProvider
        let profile: String?
        switch identity {
        case .configured:
            if let problem = settings.toolConfigError { throw problem }
            let resolution = try RegistryCredentialResolver(context: context, settings: settings.toolConfig).resolve(for: registry)
            (provider, profile) = (resolution.provider, resolution.profile)
        case .provider(let given, let givenProfile):
            (provider, profile) = (given, givenProfile)
        }
        let client = ECRClient(sender: sender, endpoints: context.endpoints(profile: profile))
        let endpoint = try client.endpoint(for: registry)
        let fingerprint = Self.fingerprint(provider.identity, endpoint: endpoint)
        diagnostics.debug("\(registry.host): credentials from \(provider.name), token endpoint \(endpoint)")
        return (provider, client, fingerprint)
    }

    /// A passing failure another process met a moment ago while fetching the same token, left
    /// beside the lock so that the processes that waited for it need not repeat it.
    public struct RecentFailure: Error, Sendable, CustomStringConvertible, TransientFailure {
        /// What that process reported.
        public var description: String
        /// When (seconds since 1970).
        public var at: Double
        /// Always true: only passing failures are recorded.
        public var isTransient: Bool { true }
        /// Seconds a recorded failure spares later processes (that did not wait for it) a retry.
        public static let lifetime = 10.0

        /// The failure recorded at `path`, if it happened at or after `since`.
        static func read(_ path: String, since: Double) -> RecentFailure? {
            guard let bytes = try? PrivateFile.read(path, policy: .ownRecord), bytes.count <= 4096 else { return nil }
            let text = String(decoding: bytes, as: UTF8.self)
            guard let newline = text.firstIndex(of: "\n"), let at = Double(text[..<newline]), at.isFinite, at >= since else { return nil }
            return RecentFailure(description: String(text[text.index(after: newline)...].prefix(1000)), at: at)
        }

        /// Records the failure (private to the user, like the lock).
        func write(to path: String) {
            try? PrivateFile.writeAtomically(Array("\(at)\n\(description.prefix(1000))".utf8), to: path)
        }
    }

    /// What credential providers for `registry` are built with: this service's environment, AWS
    /// config files, network, clock and time limits, with the registry's region as the STS
    /// fallback. Front ends that build their own provider (`Identity.provider`) use it.
    public func credentialContext(for registry: ECRRegistry) -> CredentialContext {
        let sender = AWSRequestSender(transport: transport, clock: clock, timeouts: settings.requestTimeouts, diagnostics: diagnostics,
                                      random: random)
        var context = CredentialContext(environment: environment, configuration: awsConfiguration, sender: sender,
                                        fallbackRegion: registry.region)
        context.processTimeout = settings.credentialProcessTimeout
        return context
    }

    /// When `token` is refreshed (seconds since 1970): this machine's point in its life; nil
    /// when it never expires. The kubelet plugin's cache duration ends there.
    public func refreshMoment(of token: IssuedToken) -> Double? {
        schedule.refreshMoment(registry: token.registry, issuedAt: token.issuedAt, expiresAt: token.expiresAt)
    }

    /// Keeps a fetched token, unless it is already past its refresh point (a skewed clock): then
    /// it is served but not cached, so the next request fetches again.
    private func save(_ record: CredentialRecord, in store: any CredentialStore) {
        guard schedule.isFresh(record, at: clock.now().timeIntervalSince1970) else {
            diagnostics.debug("\(record.registry): ECR issued a token that is already past its refresh point (clock skew?); not caching it")
            return
        }
        do {
            try store.save(record)
        } catch {
            diagnostics.warning("\(record.registry): could not cache the token: \(error)")
            return
        }
        for older in cache.superseded {
            do {
                try older.removeAll(registry: record.registry)
            } catch {
                diagnostics.warning("\(record.registry): could not remove the older copy in the \(older.name) store: \(error)")
            }
        }
    }

    /// The cross-process lock file of one registry and identity.
    private func lockPath(registry: String, identity: String) -> String {
        "\(settings.lockDirectory)/\(FileCredentialStore.fileStem(registry))@\(identity).lock"
    }

    private func read(_ store: any CredentialStore, registry: String, identity: String) -> CredentialRecord? {
        let started = MonotonicTime.seconds()
        defer { diagnostics.debug("\(registry): token lookup (\(store.name)) took \(Self.milliseconds(since: started)) ms") }
        do {
            return try store.record(kind: .token, registry: registry, identity: identity)
        } catch {
            diagnostics.warning("cannot read the token cache: \(error)")
            return nil
        }
    }

    private func fetch(_ registry: ECRRegistry, identity: String, provider: any CredentialProvider,
                       client: ECRClient) throws -> CredentialRecord {
        let credentials = try provider.credentials()
        let issued = clock.now().timeIntervalSince1970
        let token = try client.authorizationToken(for: registry, credentials: credentials)
        if token.expiresAt.timeIntervalSince1970 <= clock.now().timeIntervalSince1970 {
            throw ExpiredOnArrival(registry: registry.host, expiresAt: token.expiresAt, now: clock.now())
        }
        diagnostics.debug("\(registry.host): fetched a token valid until \(Timestamp.iso8601(token.expiresAt))")
        return CredentialRecord(kind: .token, registry: registry.host, serverURL: registry.host, identity: identity,
                                username: token.username, secret: token.password, issuedAt: issued,
                                expiresAt: token.expiresAt.timeIntervalSince1970)
    }

    /// ECR answered with a token that has already expired by this machine's clock.
    public struct ExpiredOnArrival: Error, Sendable, CustomStringConvertible {
        /// The registry.
        public var registry: String
        /// When the token expires.
        public var expiresAt: Date
        /// This machine's time.
        public var now: Date
        /// For example "ECR issued a token for HOST that expired at ..., before this machine's time ...".
        public var description: String {
            "ECR issued a token for \(registry) that expired at \(Timestamp.iso8601(expiresAt)), before this machine's time "
                + "\(Timestamp.iso8601(now)): the system clock is probably wrong (correct it with chrony or systemd-timesyncd)"
        }
    }

    /// A short fingerprint of an identity and the endpoint its tokens come from: the cache key,
    /// so one identity never sees another's token.
    public static func fingerprint(_ identity: String, endpoint: Endpoint) -> String {
        let digest = SHA256.hash(data: Array("docker-credential-ecr/1\0\(identity)\0\(endpoint)".utf8))
        return Hex.encode(digest.prefix(16))
    }

    /// Milliseconds since a `MonotonicTime` reading, to one decimal, for debug lines.
    public static func milliseconds(since start: Double) -> String {
        let tenths = Int(((MonotonicTime.seconds() - start) * 10_000).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    private static func time(_ seconds: Double?) -> String {
        Timestamp.iso8601(Date(timeIntervalSince1970: seconds ?? 0))
    }
}
