// `login` and `logout`: warm the token cache ahead of a pull, or clear it.
import FoundationEssentials

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
                let expiry = token.expiresAt.map { Timestamp.iso8601(Date(timeIntervalSince1970: $0)) } ?? "an unknown time"
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
    /// - Returns: how many entries were removed.
    /// - Throws: `RegistryList.Invalid` for an input that is not a registry address; what a store threw.
    @discardableResult
    package func logout(_ registries: [String], logins: Bool) throws -> Int {
        let keys = try registries.map { input -> String in
            guard let address = try? RegistryAddress(parsing: input) else {
                throw RegistryList.Invalid(input: input, reason: "is not a registry address")
            }
            return CredentialHelper.registryKey(address)
        }
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
        // A locked or hung keyring may still hold entries: saying all is gone would be wrong.
        if let problem = stores.unreachableKeyring(holding: keys.isEmpty ? nil : keys) {
            throw Incomplete(removed: removed, problem: problem)
        }
        return removed
    }

    /// `logout` removed what it could reach, but the keyring, which may hold more, was out of reach.
    package struct Incomplete: Error, Sendable, CustomStringConvertible {
        /// How many entries were removed.
        package var removed: Int
        /// Why the keyring could not be used.
        package var problem: KeyringCredentialStore.Unavailable
        /// For example "removed 2 cached entries, but not those in the keyring: ...".
        package var description: String {
            "removed \(removed) cached \(removed == 1 ? "entry" : "entries"), but not those in the keyring: \(problem) "
                + "(run logout again once \(problem.retryCondition))"
        }
    }
}
