// Settings of the docker credential helper: the token service's, plus docker-only ones.

/// Where and how the docker helper keeps credentials.
package struct HelperConfiguration: Sendable {
    /// The token service's settings: the cache backend, its directories, identity rules.
    package var tokens: TokenSettings
    /// Where logins from `store` are kept as files: `$XDG_DATA_HOME/docker-credential-ecr`.
    package var loginDirectory: String
    /// `store` and `erase` do nothing (`AWS_ECR_IGNORE_CREDS_STORAGE=true`, as the AWS helper).
    package var ignoreStorage: Bool

    /// Creates a configuration with explicit values.
    package init(tokens: TokenSettings, loginDirectory: String, ignoreStorage: Bool = false) {
        self.tokens = tokens
        self.loginDirectory = loginDirectory
        self.ignoreStorage = ignoreStorage
    }

    /// The backend, shared by tokens and logins.
    package var cacheBackend: TokenSettings.CacheBackend { tokens.cacheBackend }

    /// Reads the token settings (`TokenSettings.init(environment:)`), `$XDG_DATA_HOME` and
    /// `AWS_ECR_IGNORE_CREDS_STORAGE`.
    /// - Throws: `TokenSettings.InvalidSetting` for an unknown backend name.
    package init(environment: Environment) throws {
        self.init(tokens: try TokenSettings(environment: environment),
                  loginDirectory: environment.dataHome + "/docker-credential-ecr",
                  ignoreStorage: environment.isTrue("AWS_ECR_IGNORE_CREDS_STORAGE"))
    }
}
