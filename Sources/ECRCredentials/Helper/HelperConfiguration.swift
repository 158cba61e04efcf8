// Settings of the credential helper, from the environment and the tool's config file.

/// Where and how the helper keeps credentials.
public struct HelperConfiguration: Sendable {
    /// Which backend keeps fetched tokens and stored logins.
    public enum CacheBackend: String, Sendable, Equatable, CaseIterable {
        /// The keyring when it is reachable and unlocked, else private files (the default).
        case auto
        /// The keyring only; when it cannot be used, tokens are not cached and `store` fails.
        case keyring
        /// Private files under `$XDG_CACHE_HOME` and `$XDG_DATA_HOME`.
        case file
        /// No token cache: every `get` asks ECR. Logins are kept as with `auto`.
        case none
    }

    /// Why a setting was refused.
    public struct InvalidSetting: Error, Sendable, CustomStringConvertible {
        /// Where it was set: a variable or the config file.
        public var source: String
        /// Its value.
        public var value: String
        /// What it accepts.
        public var expected: String
        /// For example "DOCKER_CREDENTIAL_ECR_CACHE=disk is not one of auto, keyring, file, none".
        public var description: String { "\(source)=\(value) is not one of \(expected)" }
    }

    /// The backend. Default `.auto`; `DOCKER_CREDENTIAL_ECR_CACHE`, else `[cache] backend` in the
    /// config file; `.none` with `AWS_ECR_DISABLE_CACHE`.
    public var cacheBackend: CacheBackend
    /// Where fetched tokens are cached as files: `$XDG_CACHE_HOME/docker-credential-ecr`.
    public var tokenDirectory: String
    /// Where logins from `store` are kept as files: `$XDG_DATA_HOME/docker-credential-ecr`.
    public var loginDirectory: String
    /// Where the lock files that serialise fetches live: `<tokenDirectory>/locks`.
    public var lockDirectory: String
    /// `store` and `erase` do nothing (`AWS_ECR_IGNORE_CREDS_STORAGE=true`, as the AWS helper).
    public var ignoreStorage: Bool
    /// Seconds a `get` waits for another process fetching the same token. Default 30.
    public var lockTimeout: Double
    /// A token whose refresh failed is still served while it has this many seconds left. Default 300.
    public var staleTokenMargin: Double
    /// The tool's config file, when it exists and reads cleanly.
    public var toolConfig: ToolConfigFile?
    /// Why the tool's config file could not be read, if it could not.
    public var toolConfigError: String?

    /// Creates a configuration with explicit values.
    public init(cacheBackend: CacheBackend = .auto, tokenDirectory: String, loginDirectory: String, lockDirectory: String? = nil,
                ignoreStorage: Bool = false, lockTimeout: Double = 30, staleTokenMargin: Double = 300,
                toolConfig: ToolConfigFile? = nil, toolConfigError: String? = nil) {
        self.cacheBackend = cacheBackend
        self.tokenDirectory = tokenDirectory
        self.loginDirectory = loginDirectory
        self.lockDirectory = lockDirectory ?? tokenDirectory + "/locks"
        self.ignoreStorage = ignoreStorage
        self.lockTimeout = lockTimeout
        self.staleTokenMargin = staleTokenMargin
        self.toolConfig = toolConfig
        self.toolConfigError = toolConfigError
    }

    /// Reads `DOCKER_CREDENTIAL_ECR_CACHE`, `AWS_ECR_DISABLE_CACHE`, `AWS_ECR_IGNORE_CREDS_STORAGE`,
    /// the XDG directories and the tool's config file. A config file that does not read is kept
    /// as `toolConfigError` (reported where identities are needed), not thrown, so `store`,
    /// `erase` and `list` still work.
    /// - Throws: `InvalidSetting` for an unknown backend name.
    public init(environment: Environment) throws {
        var toolConfig: ToolConfigFile?
        var toolConfigError: String?
        do {
            toolConfig = try ToolConfigFile.load(environment: environment)
        } catch {
            toolConfigError = "\(error)"
        }
        let expected = CacheBackend.allCases.map(\.rawValue).joined(separator: ", ")
        var backend = CacheBackend.auto
        if let value = environment["DOCKER_CREDENTIAL_ECR_CACHE"] {
            guard let parsed = CacheBackend(rawValue: value.lowercased()) else {
                throw InvalidSetting(source: "DOCKER_CREDENTIAL_ECR_CACHE", value: value, expected: expected)
            }
            backend = parsed
        } else if let value = toolConfig?.cacheSettings["backend"] {
            guard let parsed = CacheBackend(rawValue: value.lowercased()) else {
                throw InvalidSetting(source: "\(toolConfig?.path ?? "config") [cache] backend", value: value, expected: expected)
            }
            backend = parsed
        }
        if environment["AWS_ECR_DISABLE_CACHE"] != nil { backend = .none }
        self.init(cacheBackend: backend,
                  tokenDirectory: environment.cacheHome + "/docker-credential-ecr",
                  loginDirectory: environment.dataHome + "/docker-credential-ecr",
                  ignoreStorage: environment.isTrue("AWS_ECR_IGNORE_CREDS_STORAGE"),
                  toolConfig: toolConfig, toolConfigError: toolConfigError)
    }
}
