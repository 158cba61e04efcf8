// Settings of the credential helper, from the environment.

/// Where and how the helper keeps credentials.
public struct HelperConfiguration: Sendable, Equatable {
    /// Which backend keeps fetched tokens.
    public enum CacheBackend: String, Sendable, Equatable {
        /// Private files under `$XDG_CACHE_HOME/docker-credential-ecr` (the default).
        case file
        /// Nothing is cached: every `get` asks ECR.
        case none
    }

    /// Why the environment was refused.
    public struct InvalidSetting: Error, Sendable, CustomStringConvertible {
        /// The variable.
        public var variable: String
        /// Its value.
        public var value: String
        /// What it accepts.
        public var expected: String
        /// For example "DOCKER_CREDENTIAL_ECR_CACHE=disk is not one of file, none".
        public var description: String { "\(variable)=\(value) is not one of \(expected)" }
    }

    /// The token cache backend. Default `.file`; `.none` with `AWS_ECR_DISABLE_CACHE` or
    /// `DOCKER_CREDENTIAL_ECR_CACHE=none`.
    public var cacheBackend: CacheBackend
    /// Where fetched tokens are cached: `$XDG_CACHE_HOME/docker-credential-ecr` (default `~/.cache/...`).
    public var tokenDirectory: String
    /// Where logins from `store` are kept: `$XDG_DATA_HOME/docker-credential-ecr` (default `~/.local/share/...`).
    public var loginDirectory: String
    /// Where the lock files that serialise fetches live: `<tokenDirectory>/locks`.
    public var lockDirectory: String
    /// `store` and `erase` do nothing (`AWS_ECR_IGNORE_CREDS_STORAGE=true`, as the AWS helper).
    public var ignoreStorage: Bool
    /// Seconds a `get` waits for another process fetching the same token. Default 30.
    public var lockTimeout: Double
    /// A token whose refresh failed is still served while it has this many seconds left. Default 300.
    public var staleTokenMargin: Double

    /// Creates a configuration with explicit values.
    public init(cacheBackend: CacheBackend = .file, tokenDirectory: String, loginDirectory: String, lockDirectory: String? = nil,
                ignoreStorage: Bool = false, lockTimeout: Double = 30, staleTokenMargin: Double = 300) {
        self.cacheBackend = cacheBackend
        self.tokenDirectory = tokenDirectory
        self.loginDirectory = loginDirectory
        self.lockDirectory = lockDirectory ?? tokenDirectory + "/locks"
        self.ignoreStorage = ignoreStorage
        self.lockTimeout = lockTimeout
        self.staleTokenMargin = staleTokenMargin
    }

    /// Reads `DOCKER_CREDENTIAL_ECR_CACHE`, `AWS_ECR_DISABLE_CACHE`, `AWS_ECR_IGNORE_CREDS_STORAGE`
    /// and the XDG directories.
    /// - Throws: `InvalidSetting` for an unknown backend name.
    public init(environment: Environment) throws {
        var backend = CacheBackend.file
        if let value = environment["DOCKER_CREDENTIAL_ECR_CACHE"] {
            guard let parsed = CacheBackend(rawValue: value.lowercased()) else {
                throw InvalidSetting(variable: "DOCKER_CREDENTIAL_ECR_CACHE", value: value, expected: "file, none")
            }
            backend = parsed
        }
        if environment["AWS_ECR_DISABLE_CACHE"] != nil { backend = .none }
        self.init(cacheBackend: backend,
                  tokenDirectory: environment.cacheHome + "/docker-credential-ecr",
                  loginDirectory: environment.dataHome + "/docker-credential-ecr",
                  ignoreStorage: environment.isTrue("AWS_ECR_IGNORE_CREDS_STORAGE"))
    }
}
