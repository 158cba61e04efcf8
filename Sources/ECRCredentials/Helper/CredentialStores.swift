// Which stores the docker helper reads and writes, chosen once per run from the backend setting.

/// The stores of one helper run.
///
/// With the keyring in use, fetched tokens and new logins go to the keyring only, and token
/// files are not read, so switching backends never serves a stale token from the other one;
/// logins kept in files earlier are still found. `erase` and `list` reach every backend.
public struct CredentialStores: Sendable {
    /// Where the token service caches tokens.
    public var tokens: TokenCache
    /// Where `store` keeps logins; nil when it cannot (keyring required but unavailable).
    public var loginTarget: (any CredentialStore)?
    /// Where logins are looked up, in order.
    public var loginSources: [any CredentialStore]
    /// Every store that may hold something, for `erase` and `list`.
    public var everything: [any CredentialStore]
    /// Why the keyring is not used, when it was wanted.
    public var keyringProblem: (any Error)? { tokens.problem }

    /// Creates a set of stores.
    public init(tokens: TokenCache, loginTarget: (any CredentialStore)?, loginSources: [any CredentialStore],
                everything: [any CredentialStore]) {
        self.tokens = tokens
        self.loginTarget = loginTarget
        self.loginSources = loginSources
        self.everything = everything
    }

    /// Opens the keyring: the real one, or a substitute in tests.
    public typealias KeyringOpener = @Sendable (Environment) throws -> any CredentialStore

    /// Chooses the stores for `configuration.cacheBackend`; opens the keyring only when the
    /// backend wants it, or when `everyBackend` (erase, list) and a session bus exists.
    /// - Parameters:
    ///   - sessionBus: whether a session bus is configured (so the keyring may exist at all).
    ///   - openKeyring: opens the keyring or throws why it cannot be used.
    public static func select(_ configuration: HelperConfiguration, environment: Environment, diagnostics: Diagnostics,
                              everyBackend: Bool = false,
                              sessionBus: (Environment) -> Bool = KeyringCredentialStore.sessionBusConfigured,
                              openKeyring: KeyringOpener = { try KeyringCredentialStore.open(environment: $0) }) -> CredentialStores {
        let tokenFiles = FileCredentialStore(directory: configuration.tokens.tokenDirectory, diagnostics: diagnostics)
        let loginFiles = FileCredentialStore(directory: configuration.loginDirectory, diagnostics: diagnostics)
        let backend = configuration.cacheBackend
        var keyring: (any CredentialStore)?
        var problem: (any Error)?
        if backend != .file || (everyBackend && sessionBus(environment)) {
            let started = MonotonicTime.seconds()
            do {
                keyring = try openKeyring(environment)
            } catch {
                problem = error
            }
            diagnostics.debug("keyring \(keyring == nil ? "unavailable" : "open") in \(TokenService.milliseconds(since: started)) ms\(problem.map { ": \($0)" } ?? "")")
        }
        let all: [any CredentialStore] = (keyring.map { [$0] } ?? []) + [tokenFiles, loginFiles]
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
