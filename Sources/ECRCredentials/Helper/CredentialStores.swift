// Which stores the docker helper reads and writes, chosen once per run from the backend setting.

/// The stores of one helper run.
///
/// A class, so that handing it around a request copies one reference rather than its arrays and
/// existentials (whose copies build their type metadata at run time, on the cache hit's path).
///
/// With the keyring in use, fetched tokens and new logins go to the keyring only, and token
/// files are not read, so switching backends never serves a stale token from the other one;
/// logins kept in files earlier are still found. `erase` and `list` reach every backend.
package final class CredentialStores: Sendable {
    /// Where the token service caches tokens.
    package let tokens: TokenCache
    /// Where `store` keeps logins; nil when it cannot (keyring required but unavailable).
    package let loginTarget: (any CredentialStore)?
    /// Where logins are looked up, in order.
    package let loginSources: [any CredentialStore]
    /// Every store that may hold something, for `erase` and `list`.
    package let everything: [any CredentialStore]
    /// Why the keyring is not used, when it was wanted.
    package var keyringProblem: (any Error)? { tokens.problem }
    /// The keyring that was out of reach (locked, hung) and may still hold entries of one of
    /// `registries` (nil: of any registry): a removal that did not reach it must not say everything
    /// is gone. A locked keyring's item attributes tell which registries it holds.
    package func unreachableKeyring(holding registries: [String]? = nil) -> KeyringCredentialStore.Unavailable? {
        guard let problem = keyringProblem as? KeyringCredentialStore.Unavailable, problem.mayHoldEntries else { return nil }
        guard let registries else { return problem }
        return registries.contains(where: problem.mayHold(registry:)) ? problem : nil
    }

    /// Creates a set of stores.
    package init(tokens: TokenCache, loginTarget: (any CredentialStore)?, loginSources: [any CredentialStore],
                everything: [any CredentialStore]) {
        self.tokens = tokens
        self.loginTarget = loginTarget
        self.loginSources = loginSources
        self.everything = everything
    }

    /// Opens the keyring: the real one, or a substitute in tests.
    package typealias KeyringOpener = @Sendable (Environment) throws -> any CredentialStore

    /// Which kernel keyring tier a selection puts in front of the Secret Service.
    package enum KernelTier: Sendable {
        /// The one `kernelTier(_:environment:diagnostics:)` gives for the configuration.
        case configured
        /// None.
        case off
        /// This one, with what it already answered in this request (not asked again).
        case given(KernelKeyringStore, answered: KernelTierAnswers?)
    }

    /// The system boundaries a selection reaches, which tests replace: whether a session bus is
    /// configured, the Secret Service, and the kernel's key calls.
    package struct Boundaries: Sendable {
        /// Whether a session bus is configured (so the keyring may exist at all).
        package var sessionBus: @Sendable (Environment) -> Bool
        /// Opens the Secret Service or throws why it cannot be used.
        package var openKeyring: KeyringOpener
        /// The kernel's key retention service, for the kernel keyring tier.
        package var kernelKeys: any KernelKeyCalls

        /// The real ones by default.
        package init(sessionBus: @escaping @Sendable (Environment) -> Bool = { KeyringCredentialStore.sessionBusConfigured($0) },
                    openKeyring: @escaping KeyringOpener = { try KeyringCredentialStore.open(environment: $0) },
                    kernelKeys: any KernelKeyCalls = SystemKernelKeys()) {
            self.sessionBus = sessionBus
            self.openKeyring = openKeyring
            self.kernelKeys = kernelKeys
        }
    }

    /// The kernel keyring tier for this configuration: nil when it is turned off
    /// (`TokenSettings.kernelKeyring`) or no session bus is configured (no Secret Service for it
    /// to stand in front of).
    /// - Parameter keys: the kernel, or a substitute in tests.
    package static func kernelTier(_ configuration: HelperConfiguration, environment: Environment, diagnostics: Diagnostics,
                                  sessionBus: (Environment) -> Bool = KeyringCredentialStore.sessionBusConfigured,
                                  keys: any KernelKeyCalls = SystemKernelKeys()) -> KernelKeyringStore? {
        guard configuration.tokens.kernelKeyring, sessionBus(environment) else { return nil }
        return KernelKeyringStore(scope: KernelKeyringStore.scope(environment: environment), generationFile: generationFile(configuration),
                                  keys: keys, diagnostics: diagnostics)
    }

    /// The kernel keyring tier's generation file: in the token cache directory, which every
    /// namespace of the user reaches under the same path.
    package static func generationFile(_ configuration: HelperConfiguration) -> KernelKeyringStore.GenerationFile {
        KernelKeyringStore.GenerationFile(directory: configuration.tokens.tokenDirectory)
    }

    /// Chooses the stores for `configuration.cacheBackend`; opens the keyring only when the
    /// backend wants it, or when `everyBackend` (erase, list) and a session bus exists. The
    /// keyring is `kernelTier` in front of the Secret Service; where the Secret Service cannot be
    /// used, the kernel tier alone is still among `everything`, so `erase` and `logout` clear it.
    /// - Parameters:
    ///   - sessionBus: whether a session bus is configured (so the keyring may exist at all).
    ///   - openKeyring: opens the keyring or throws why it cannot be used.
    ///   - keys: the kernel's key calls, for the kernel keyring tier.
    ///   - kernelTier: the kernel keyring tier; by default `kernelTier(...)`.
    package static func select(_ configuration: HelperConfiguration, environment: Environment, diagnostics: Diagnostics,
                              everyBackend: Bool = false,
                              sessionBus: (Environment) -> Bool = KeyringCredentialStore.sessionBusConfigured,
                              openKeyring: KeyringOpener = { try KeyringCredentialStore.open(environment: $0) },
                              keys: any KernelKeyCalls = SystemKernelKeys(),
                              kernelTier: KernelTier = .configured) -> CredentialStores {
        let tokenFiles = FileCredentialStore(directory: configuration.tokens.tokenDirectory, diagnostics: diagnostics)
        let loginFiles = FileCredentialStore(directory: configuration.loginDirectory, diagnostics: diagnostics)
        let backend = configuration.cacheBackend
        var keyring: (any CredentialStore)?
        var problem: (any Error)?
        let fast: KernelKeyringStore?
        var answered: KernelTierAnswers?
        switch kernelTier {
        case .configured: fast = Self.kernelTier(configuration, environment: environment, diagnostics: diagnostics, sessionBus: sessionBus, keys: keys)
        case .off: fast = nil
        case .given(let given, let answers): (fast, answered) = (given, answers)
        }
        if backend != .file || (everyBackend && sessionBus(environment)) {
            let started = MonotonicTime.seconds()
            do {
                let secretService = try openKeyring(environment)
                if backend == .keyring, let secretService = secretService as? KeyringCredentialStore {
                    secretService.requiredBy = KeyringCredentialStore.keyringModeSetting
                }
                keyring = fast.map { TieredKeyringStore(fast: $0, durable: secretService, diagnostics: diagnostics, answered: answered) } ?? secretService
            } catch var unavailable as KeyringCredentialStore.Unavailable {
                if backend == .keyring { unavailable.requiredBy = KeyringCredentialStore.keyringModeSetting }
                if unavailable.broken, everyBackend {
                    // Nothing of this tool's can be read there, so nothing is left there to erase.
                    diagnostics.warning("the keyring was not searched: \(unavailable.reason)")
                }
                problem = unavailable
            } catch {
                problem = error
            }
            diagnostics.debug("keyring \(keyring == nil ? "unavailable" : "open") in \(TokenService.milliseconds(since: started)) ms\(problem.map { ": \($0)" } ?? "")")
        }
        // The kernel tier on its own, where it is not in front of the Secret Service (which cannot
        // be used, or the tier is turned off): `erase` and `logout` must still clear what an
        // earlier run put there, and `store` must not leave an older login there.
        var kernelOnly: KernelKeyringStore?
        if !(keyring is TieredKeyringStore), backend != .file || everyBackend {
            if let fast {
                kernelOnly = fast
            } else if !configuration.tokens.kernelKeyring, sessionBus(environment) {
                kernelOnly = KernelKeyringStore(scope: KernelKeyringStore.scope(environment: environment),
                                                generationFile: generationFile(configuration), keys: keys, diagnostics: diagnostics)
            }
        }
        let all: [any CredentialStore] = (keyring.map { [$0] } ?? []) + (kernelOnly.map { [$0] } ?? []) + [tokenFiles, loginFiles]
        switch (backend, keyring) {
        case (.file, _):
            return CredentialStores(tokens: TokenCache(store: tokenFiles), loginTarget: loginFiles, loginSources: [loginFiles],
                                    everything: all)
        case (.auto, let keyring?), (.keyring, let keyring?):
            // Tokens live in the keyring now: a fetched token's file copy is removed.
            return CredentialStores(tokens: TokenCache(store: keyring, superseded: [tokenFiles]), loginTarget: keyring,
                                    loginSources: [keyring, loginFiles], everything: all)
        case (.none, let keyring?):
            return CredentialStores(tokens: .disabled, loginTarget: keyring, loginSources: [keyring, loginFiles], everything: all)
        case (.auto, nil):
            return CredentialStores(tokens: TokenCache(store: tokenFiles, problem: problem), loginTarget: loginFiles,
                                    loginSources: [loginFiles], everything: all)
        case (.none, nil):
            return CredentialStores(tokens: TokenCache(store: nil, problem: problem), loginTarget: loginFiles,
                                    loginSources: [loginFiles], everything: all)
        case (.keyring, nil):
            return CredentialStores(tokens: TokenCache(store: nil, problem: problem), loginTarget: nil, loginSources: [loginFiles],
                                    everything: all)
        }
    }
}
