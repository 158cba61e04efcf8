// `login` and `logout`: warm the token cache ahead of a pull, or clear it.

/// Fetches tokens into the cache ahead of time (`login`) and removes cached tokens (`logout`),
/// through the same stores and token service as `get`.
package struct TokenCacheCommands: Sendable {
    /// What `login` did for one registry.
    package struct LoginResult: Sendable {
        /// The registry host.
        package var registry: String
        /// The token, when one was had.
        package var token: IssuedToken?
        /// Why not, when none was.
        package var failure: (any Error)?
    }

    private let context: HelperContext

    /// Creates the commands on the run's shared parts; its stores are those `get` would use.
    package init(_ context: HelperContext) {
        self.context = context
    }

    /// A token for each of `registries` (hosts, URLs or image references), cached as `get`
    /// caches; an input that is not an ECR registry gets its own failed result, and the others
    /// are still fetched.
    package func login(_ registries: [String]) -> [LoginResult] {
        let stores = context.stores()
        let service = TokenService(settings: context.configuration.tokens, cache: stores.tokens, environment: context.environment,
                                   transport: context.transport, clock: context.clock, diagnostics: context.diagnostics)
        return registries.map { input in
            do {
                let host = try RegistryList.host(input)
                guard let registry = ECRRegistry(host: host) else { throw RegistryList.Invalid(input: host, reason: "is not an ECR registry host") }
                do {
                    return LoginResult(registry: host, token: try service.token(for: registry))
                } catch {
                    return LoginResult(registry: host, failure: error)
                }
            } catch {
                return LoginResult(registry: TerminalText.printable(input, limit: 100), failure: error)
            }
        }
    }

    /// The report of `login`: one line per registry.
    package static func report(_ results: [LoginResult]) -> String {
        results.map { result in
            if let token = result.token {
                let expiry = token.expiresAt.map { Timestamp.iso8601(Timestamp(timeIntervalSince1970: $0)) } ?? "an unknown time"
                let source = switch token.source {
                case .cache: "cached"
                case .fetched: "fetched"
                case .staleFallback: "cached; refreshing it failed"
                }
                return "\(result.registry): token valid until \(expiry) (\(source))\n"
            }
            return "\(result.registry): no token: \(result.failure.map { "\($0)" } ?? "unknown failure")\n"
        }.joined()
    }

    /// Removes the cached tokens of `registries` (every identity), or of every registry when
    /// `registries` is empty; with `logins`, also what `store` kept for them.
    ///
    /// Fetches of those tokens still running (and, with `logins`, `store`s of those logins) are
    /// waited for first, up to the lock timeout in all: their locks (`RegistryLocks`) are held
    /// until the entries are removed, so nothing they save stays behind.
    /// - Returns: how many entries were removed.
    /// - Throws: `RegistryList.Invalid` for an input that is not a registry address; what a store
    ///   threw; `Incomplete`, after removing what it could, when the keyring was out of reach or a
    ///   fetch was still running at the lock timeout.
    @discardableResult
    package func logout(_ registries: [String], logins: Bool) throws -> Int {
        let keys = try registries.map { input -> String in
            guard let address = try? RegistryAddress(parsing: input) else {
                throw RegistryList.Invalid(input: input, reason: "is not a registry address")
            }
            return CredentialHelper.registryKey(address)
        }
        let settings = context.configuration.tokens
        let held = RegistryLocks(directory: settings.lockDirectory).hold(registries: keys.isEmpty ? nil : Set(keys), logins: logins,
                                                                         timeout: settings.lockTimeout, clock: context.clock,
                                                                         diagnostics: context.diagnostics)
        defer { withExtendedLifetime(held) {} }
        let stores = context.stores(everyBackend: true)
        var removed = 0
        for store in stores.everything {
            for record in try store.allRecords() where (keys.isEmpty || keys.contains(record.registry)) && (logins || record.kind == .token) {
                try store.remove(kind: record.kind, registry: record.registry, identity: record.identity)
                removed += 1
            }
            // Also the kernel keyring's copies made for other session buses.
            if let kernel = (store as? TieredKeyringStore)?.fast ?? (store as? KernelKeyringStore) {
                try kernel.removeEverything(of: logins ? [.token, .login] : [.token], registries: keys.isEmpty ? nil : Set(keys))
            }
        }
        // A locked or hung keyring may still hold entries, and a fetch still running may save one
        // after this: saying all is gone would be wrong.
        let problem = stores.unreachableKeyring(holding: keys.isEmpty ? nil : keys)
        if problem != nil || !held.busy.isEmpty {
            throw Incomplete(removed: removed, problem: problem, busy: held.busy)
        }
        return removed
    }

    /// `logout` removed what it could reach, but the keyring, which may hold more, was out of
    /// reach, or a fetch (or `store`) was still running at the lock timeout and may save after it.
    package struct Incomplete: Error, Sendable, CustomStringConvertible {
        /// How many entries were removed.
        package var removed: Int
        /// Why the keyring could not be used, when it could not.
        package var problem: KeyringCredentialStore.Unavailable?
        /// The locks a fetch or `store` still held at the lock timeout.
        package var busy: [RegistryLocks.Busy] = []
        /// For example "removed 2 cached entries, but not those in the keyring: ..." or "removed
        /// 0 cached entries, but a token fetch for HOST was still running after 30 s ...".
        package var description: String {
            var missed: [String] = []
            var retry: [String] = []
            if let problem {
                missed.append("not those in the keyring: \(problem)")
                retry.append(problem.retryCondition)
            }
            if !busy.isEmpty {
                missed.append(busy.map { "\($0)" }.joined(separator: "; ") + ", and what \(busy.count == 1 ? "it saves" : "they save") may stay")
                retry.append(busy.count == 1 ? "it has finished" : "they have finished")
            }
            return "removed \(removed) cached \(removed == 1 ? "entry" : "entries"), but \(missed.joined(separator: "; and "))"
                + " (run logout again once \(retry.joined(separator: " and ")))"
        }
    }
}
