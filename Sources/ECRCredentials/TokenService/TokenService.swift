// The one way every front end gets an ECR token: cache, single flight, fetch, fallback.

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
    package enum Identity: Sendable {
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
    package let schedule: RefreshSchedule

    /// - Parameters:
    ///   - cache: where tokens are kept for this run (`TokenCache.disabled` for none).
    ///   - transport: the network; used only when a token must be fetched.
    ///   - awsConfiguration: the AWS config files, read on first use; by default those the
    ///     environment names.
    ///   - random: the jitter of retries.
    ///   - machine: whose refresh point `settings.refreshWindow` draws (this machine by default).
    package init(settings: TokenSettings, cache: TokenCache, environment: Environment, transport: any HTTPTransport,
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

    /// One request's identity, resolved once from configuration alone (no network): who fetches
    /// the token, the ECR client of its endpoint, and the fingerprint its tokens are cached under.
    /// Every lookup and fetch of the request reuses it.
    package struct Lookup: Sendable {
        /// The registry.
        package let registry: ECRRegistry
        /// The cache key: a digest of the identity and the token endpoint.
        package let fingerprint: String
        let provider: any CredentialProvider
        let client: ECRClient
    }

    /// What one read of a token store found: the record kept there, and the token to serve when
    /// that record is fresh (before its refresh point).
    package struct CacheRead: Sendable {
        /// The record kept for the lookup's registry and identity, fresh or not.
        package var record: CredentialRecord?
        /// The token, when the record is fresh: a cache hit.
        package var hit: IssuedToken?
    }

    /// The token for `registry`: the identity is resolved once, then `token(_:cache:)`.
    /// - Throws: what resolving the identity or fetching threw, with its type intact:
    ///   `CredentialError`, `AWSServiceError`, `HTTPTransportError`, `ToolConfigFile` errors, ...
    package func token(for registry: ECRRegistry, identity: Identity) throws -> IssuedToken {
        warnWhenUncached(cache)
        return try token(lookup(registry, identity: identity), cache: cache, warned: true)
    }

    /// Resolves who fetches the token for `registry` (from configuration only, no network), once
    /// per request.
    /// - Throws: the tool's config file's error, a profile's, an endpoint override's.
    package func lookup(_ registry: ECRRegistry, identity: Identity = .configured) throws -> Lookup {
        let context = credentialContext(for: registry)
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
        let client = ECRClient(sender: context.sender, endpoints: context.endpoints(profile: profile))
        let endpoint = try client.endpoint(for: registry)
        let fingerprint = Self.fingerprint(provider.identity, endpoint: endpoint)
        diagnostics.debug("\(registry.host): credentials from \(provider.name), token endpoint \(endpoint)")
        return Lookup(registry: registry, fingerprint: fingerprint, provider: provider, client: client)
    }

    /// The one cache-hit routine: reads `store` once for the lookup's token, and serves it when it
    /// is fresh. Front ends use it to answer from a fast tier before opening the others; no lock,
    /// fetch or network.
    package func cachedToken(_ lookup: Lookup, in store: any CredentialStore) -> CacheRead {
        cachedToken(lookup, in: store, at: clock.now().timeIntervalSince1970, hit: "cache hit (\(store.name))")
    }

    private func cachedToken(_ lookup: Lookup, in store: any CredentialStore, at now: Double, hit note: String) -> CacheRead {
        let host = lookup.registry.host
        guard let record = read(store, registry: host, identity: lookup.fingerprint) else { return CacheRead() }
        guard schedule.isFresh(record, at: now) else { return CacheRead(record: record) }
        diagnostics.debug("\(host): \(note), expires \(Self.time(record.expiresAt))")
        return CacheRead(record: record, hit: IssuedToken(record, source: .cache))
    }

    /// Warns that the keyring the settings ask for cannot be used, so tokens are not cached.
    private func warnWhenUncached(_ cache: TokenCache) {
        if cache.store == nil, settings.cacheBackend == .keyring, let problem = cache.problem {
            diagnostics.warning("\(problem); the token is not cached")
        }
    }

    /// The token for a resolved `lookup`: a fresh cached one from `cache` (this service's own by
    /// default), else one fetched by a single process while the others wait for it, else a
    /// still-valid cached one when the refresh failed for a passing reason.
    /// - Throws: what fetching threw, with its type intact.
    package func token(_ lookup: Lookup, cache: TokenCache? = nil) throws -> IssuedToken {
        try token(lookup, cache: cache ?? self.cache, warned: false)
    }

    private func token(_ lookup: Lookup, cache: TokenCache, warned: Bool) throws -> IssuedToken {
        let registry = lookup.registry
        let (provider, client, fingerprint) = (lookup.provider, lookup.client, lookup.fingerprint)
        let now = clock.now().timeIntervalSince1970
        if !warned { warnWhenUncached(cache) }

        guard let store = cache.store else {
            return IssuedToken(try fetch(registry, identity: fingerprint, provider: provider,
                                         client: client.retryingThrottling(ThrottlingBackoff.forBudget(settings.throttlingBudget, from: now))),
                               source: .fetched)
        }
        // The lock file's time is the file system's, so the read is timed by the system clock.
        let readStarted = SystemClock().now().timeIntervalSince1970
        let first = cachedToken(lookup, in: store, at: now, hit: "cache hit (\(store.name))")
        if let hit = first.hit { return hit }
        let cached = first.record

        // With a still-valid token to fall back on, a throttled refresh gives up as quickly as
        // any other passing failure; without one, it keeps trying until the deadline.
        let canFallBack = cached?.isUsable(at: now, margin: settings.staleTokenMargin) ?? false
        let throttling = canFallBack ? nil : ThrottlingBackoff.forBudget(settings.throttlingBudget, from: now)
        // One process fetches; the others wait for its result instead of calling ECR too (as
        // long as a throttled holder may keep trying, when there is nothing to fall back on).
        let lockPath = self.lockPath(registry: registry.host, identity: fingerprint)
        let lock: FileLock?
        do {
            try PrivateFile.makeDirectory(settings.lockDirectory)
            let timeout = canFallBack ? settings.lockTimeout : max(settings.lockTimeout, settings.throttlingBudget)
            lock = try FileLock(path: lockPath, timeout: timeout, clock: clock)
        } catch let failure as FileLock.TimedOut {
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
        // Another process fetched between the read above and the lock when it held the lock
        // meanwhile: it marks the lock file when it saves. Only then is the cache read again.
        // (File times come from the kernel's coarse clock, up to a tick behind: hence the margin.)
        if let lock, lock.waited > 0 || lock.changed(since: readStarted - 0.05) {
            if let current = cachedToken(lookup, in: store, at: clock.now().timeIntervalSince1970,
                                         hit: "another process fetched the token").hit {
                return current
            }
        }
        if let lock {
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
        let fetchStarted = SystemClock().now().timeIntervalSince1970
        do {
            let record = try fetch(registry, identity: fingerprint, provider: provider, client: client.retryingThrottling(throttling))
            if let lock {
                save(record, in: store, superseded: cache.superseded)
                lock.markChanged()
                try? PrivateFile.remove(lockPath + ".failed")
            } else {
                saveWithoutHavingLocked(record, in: store, superseded: cache.superseded, lockPath: lockPath, since: fetchStarted)
            }
            return IssuedToken(record, source: .fetched)
        } catch {
            if lock != nil, ErrorChain.isTransient(error) {
                RecentFailure(description: "\(error)", at: clock.now().timeIntervalSince1970).write(to: lockPath + ".failed")
            }
            let stamp = clock.now().timeIntervalSince1970
            guard let cached, cached.isUsable(at: stamp, margin: settings.staleTokenMargin), ErrorChain.isTransient(error) else {
                throw error
            }
            diagnostics.warning("\(registry.host): refreshing the token failed (\(error)); using the cached one, valid until \(Self.time(cached.expiresAt))")
            return IssuedToken(cached, source: .staleFallback)
        }
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
        package static let lifetime = 10.0

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
    package func credentialContext(for registry: ECRRegistry) -> CredentialContext {
        let sender = AWSRequestSender(transport: transport, clock: clock, timeouts: settings.requestTimeouts, diagnostics: diagnostics,
                                      random: random)
        var context = CredentialContext(environment: environment, configuration: awsConfiguration, sender: sender,
                                        fallbackRegion: registry.region)
        context.processTimeout = settings.credentialProcessTimeout
        return context
    }

    /// When `token` is refreshed (seconds since 1970): this machine's point in its life; nil
    /// when it never expires. The kubelet plugin's cache duration ends there.
    package func refreshMoment(of token: IssuedToken) -> Double? {
        schedule.refreshMoment(registry: token.registry, issuedAt: token.issuedAt, expiresAt: token.expiresAt)
    }

    /// Keeps a fetched token, unless it is already past its refresh point (a skewed clock): then
    /// it is served but not cached, so the next request fetches again.
    private func save(_ record: CredentialRecord, in store: any CredentialStore, superseded: [any CredentialStore]) {
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
        for older in superseded {
            do {
                try older.removeAll(registry: record.registry)
            } catch {
                diagnostics.warning("\(record.registry): could not remove the older copy in the \(older.name) store: \(error)")
            }
        }
    }

    /// Keeps a token fetched without its lock (another process held the lock past the timeout,
    /// or the lock could not be made) only if the lock is free now and nobody marked it since the
    /// fetch began: a `logout` or `erase` that ran meanwhile marks every lock it passes, and a
    /// fetch that saved meanwhile marks its own, so the token is served but not cached over
    /// either. Where no lock can be made at all, nothing can mark one, and the token is kept.
    private func saveWithoutHavingLocked(_ record: CredentialRecord, in store: any CredentialStore, superseded: [any CredentialStore],
                                         lockPath: String, since fetchStarted: Double) {
        let late: FileLock
        do {
            late = try FileLock(path: lockPath, timeout: 0, clock: clock)
        } catch is FileLock.TimedOut {
            diagnostics.debug("\(record.registry): not caching the token fetched without the lock: another process holds it now")
            return
        } catch {
            save(record, in: store, superseded: superseded)
            return
        }
        // Conservatively: some file systems keep whole seconds (ext4 with small inodes, some
        // NFS servers) and NFS takes the server's clock, so a mark in the second before the fetch
        // began counts too. The cost of a false alarm is one token not cached.
        guard !late.changed(since: fetchStarted.rounded(.down) - 1) else {
            diagnostics.debug("\(record.registry): not caching the token fetched without the lock: the cache changed meanwhile (a logout, or another fetch)")
            return
        }
        save(record, in: store, superseded: superseded)
        late.markChanged()
    }

    /// The cross-process lock file of one registry and identity.
    private func lockPath(registry: String, identity: String) -> String {
        RegistryLocks(directory: settings.lockDirectory).path(registry: registry, holder: .fetch(identity: identity))
    }

    private func read(_ store: any CredentialStore, registry: String, identity: String) -> CredentialRecord? {
        let started = MonotonicTime.seconds()
        // The tiered keyring writes the lines of its own tiers (kernel keyring, Secret Service).
        defer {
            if !(store is TieredKeyringStore) {
                diagnostics.debug("\(registry): token lookup (\(store.name)) took \(Self.milliseconds(since: started)) ms")
            }
        }
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
        public var expiresAt: Timestamp
        /// This machine's time.
        public var now: Timestamp
        /// For example "ECR issued a token for HOST that expired at ..., before this machine's time ...".
        public var description: String {
            "ECR issued a token for \(registry) that expired at \(Timestamp.iso8601(expiresAt)), before this machine's time "
                + "\(Timestamp.iso8601(now)): the system clock is probably wrong (correct it with chrony or systemd-timesyncd)"
        }
    }

    /// A short fingerprint of an identity and the endpoint its tokens come from: the cache key,
    /// so one identity never sees another's token.
    package static func fingerprint(_ identity: String, endpoint: Endpoint) -> String {
        let digest = Digest.sha256(Array("docker-credential-ecr/1\0\(identity)\0\(endpoint)".utf8))
        return Hex.encode(digest.prefix(16))
    }

    /// Milliseconds since a `MonotonicTime` reading, to one decimal, for debug lines.
    package static func milliseconds(since start: Double) -> String {
        let tenths = Int(((MonotonicTime.seconds() - start) * 10_000).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    private static func time(_ seconds: Double?) -> String {
        Timestamp.iso8601(Timestamp(timeIntervalSince1970: seconds ?? 0))
    }
}
