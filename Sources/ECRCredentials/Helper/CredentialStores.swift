// Which stores the helper reads and writes, chosen once per run from the backend setting.

/// The stores of one helper run.
///
/// With the keyring in use, fetched tokens and new logins go to the keyring only, and token
/// files are not read, so switching backends never serves a stale token from the other one;
/// logins kept in files earlier are still found. `erase` and `list` reach every backend.
public struct CredentialStores: Sendable {
    /// Where fetched tokens are cached; nil when nothing is.
    public var tokens: (any CredentialStore)?
    /// Where `store` keeps logins; nil when it cannot (keyring required but unavailable).
    public var loginTarget: (any CredentialStore)?
    /// Where logins are looked up, in order.
    public var loginSources: [any CredentialStore]
    /// Every store that may hold something, for `erase` and `list`.
    public var everything: [any CredentialStore]
    /// Why the keyring is not used, when it was wanted.
    public var keyringProblem: String?

    /// Creates a set of stores.
    public init(tokens: (any CredentialStore)?, loginTarget: (any CredentialStore)?, loginSources: [any CredentialStore],
                everything: [any CredentialStore], keyringProblem: String? = nil) {
        self.tokens = tokens
        self.loginTarget = loginTarget
        self.loginSources = loginSources
        self.everything = everything
        self.keyringProblem = keyringProblem
    }

    /// Chooses the stores for `configuration.cacheBackend`; opens the keyring only when the
    /// backend wants it, or when `everyBackend` (erase, list) and a session bus exists.
    public static func select(_ configuration: HelperConfiguration, environment: Environment, diagnostics: Diagnostics,
                              everyBackend: Bool = false) -> CredentialStores {
        let tokenFiles = FileCredentialStore(directory: configuration.tokenDirectory, diagnostics: diagnostics)
        let loginFiles = FileCredentialStore(directory: configuration.loginDirectory, diagnostics: diagnostics)
        let backend = configuration.cacheBackend
        var keyring: KeyringCredentialStore?
        var problem: String?
        if backend != .file || (everyBackend && KeyringCredentialStore.sessionBusConfigured(environment)) {
            let started = MonotonicTime.seconds()
            do {
                keyring = try KeyringCredentialStore.open(environment: environment)
            } catch {
                problem = "\(error)"
            }
            diagnostics.debug("keyring \(keyring == nil ? "unavailable" : "open") in \(CredentialHelper.milliseconds(since: started)) ms\(problem.map { ": \($0)" } ?? "")")
        }
        let files: [any CredentialStore] = [tokenFiles, loginFiles]
        let all: [any CredentialStore] = (keyring.map { [$0] } ?? []) + files
        switch (backend, keyring) {
        case (.file, _):
            return CredentialStores(tokens: tokenFiles, loginTarget: loginFiles, loginSources: [loginFiles], everything: all)
        case (.auto, let keyring?), (.keyring, let keyring?):
            return CredentialStores(tokens: keyring, loginTarget: keyring, loginSources: [keyring, loginFiles], everything: all)
        case (.none, let keyring?):
            return CredentialStores(tokens: nil, loginTarget: keyring, loginSources: [keyring, loginFiles], everything: all)
        case (.auto, nil):
            return CredentialStores(tokens: tokenFiles, loginTarget: loginFiles, loginSources: [loginFiles], everything: all,
                                    keyringProblem: problem)
        case (.none, nil):
            return CredentialStores(tokens: nil, loginTarget: loginFiles, loginSources: [loginFiles], everything: all,
                                    keyringProblem: problem)
        case (.keyring, nil):
            return CredentialStores(tokens: nil, loginTarget: nil, loginSources: [loginFiles], everything: all, keyringProblem: problem)
        }
    }
}
