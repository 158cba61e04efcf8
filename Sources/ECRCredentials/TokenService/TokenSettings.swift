// Settings of the token service: where tokens are cached, how long to wait, who fetches them.

/// How the token service caches tokens and picks identities; shared by every front end.
public struct TokenSettings: Sendable {
    /// Which backend keeps fetched tokens (and, for the docker helper, stored logins).
    public enum CacheBackend: String, Sendable, Equatable, CaseIterable {
        /// The keyring when it is reachable and unlocked, else private files (the default).
        case auto
        /// The keyring only; when it cannot be used, tokens are not cached and `store` fails.
        case keyring
        /// Private files under `$XDG_CACHE_HOME` and `$XDG_DATA_HOME`.
        case file
        /// No token cache: every request asks ECR. Logins are kept as with `auto`.
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
    /// tool's config file; `.none` with `AWS_ECR_DISABLE_CACHE`.
    public var cacheBackend: CacheBackend
    /// Whether keyring mode keeps a copy of each entry in the kernel keyring, in front of the
    /// Secret Service (see `KernelKeyringStore`). Default true; `DOCKER_CREDENTIAL_ECR_KERNEL_KEYRING`,
    /// else `[cache] kernel_keyring` in the tool's config file (`on` or `off`).
    public var kernelKeyring: Bool = true
    /// Where fetched tokens are cached as files: `$XDG_CACHE_HOME/docker-credential-ecr`.
    public var tokenDirectory: String
    /// Where the lock files that serialise fetches live: `<tokenDirectory>/locks`.
    public var lockDirectory: String
    /// Seconds a request waits for another process fetching the same token. Default 30.
    public var lockTimeout: Double
    /// A token whose refresh failed for a passing reason is still served while it has this many
    /// seconds left. Default 300.
    public var staleTokenMargin: Double
    /// Seconds from a request's start during which a throttled token fetch keeps trying (see
    /// `ThrottlingBackoff`), when no still-valid cached token can be served instead. Default 10
    /// (a person is waiting); the kubelet plugin sets 50, inside the kubelet's one-minute timeout.
    /// `DOCKER_CREDENTIAL_ECR_THROTTLING_BUDGET` (seconds, 0 to 300) sets it; 0 retries throttling
    /// like any other passing failure: three quick tries.
    public var throttlingBudget: Double = 10
    /// Where in its life a cached token is refreshed: a point drawn in this range, fixed for a
    /// machine and registry (see `RefreshSchedule`). Default 0.4...0.6.
    public var refreshWindow: ClosedRange<Double> = 0.4...0.6
    /// Seconds a profile's `credential_process` may run. Default 30.
    public var credentialProcessTimeout: Double = 30
    /// Time limits of each AWS request (STS, SSO, ECR, metadata endpoints have their own).
    /// Default: 3 s to connect, 10 s in all.
    public var requestTimeouts: HTTPTimeouts
    /// The tool's config file (per-registry identities), when it exists and reads cleanly.
    package var toolConfig: ToolConfigFile?
    /// Why the tool's config file could not be read, if it could not; reported when a token is
    /// asked for, so that actions needing no identity still work.
    package var toolConfigError: (any Error)?

    /// Creates settings with explicit values.
    package init(cacheBackend: CacheBackend = .auto, tokenDirectory: String, lockDirectory: String? = nil,
                lockTimeout: Double = 30, staleTokenMargin: Double = 300, requestTimeouts: HTTPTimeouts = HTTPTimeouts(),
                toolConfig: ToolConfigFile? = nil, toolConfigError: (any Error)? = nil) {
        self.cacheBackend = cacheBackend
        self.tokenDirectory = tokenDirectory
        self.lockDirectory = lockDirectory ?? tokenDirectory + "/locks"
        self.lockTimeout = lockTimeout
        self.staleTokenMargin = staleTokenMargin
        self.requestTimeouts = requestTimeouts
        self.toolConfig = toolConfig
        self.toolConfigError = toolConfigError
    }

    /// Reads `DOCKER_CREDENTIAL_ECR_CACHE`, `AWS_ECR_DISABLE_CACHE`, `$XDG_CACHE_HOME` and the
    /// tool's config file. A config file that does not read is kept as `toolConfigError`.
    /// - Throws: `InvalidSetting` for an unknown backend name.
    public init(environment: Environment) throws {
        var toolConfig: ToolConfigFile?
        var toolConfigError: (any Error)?
        do {
            toolConfig = try ToolConfigFile.load(environment: environment)
        } catch {
            toolConfigError = error
        }
        // Only for the error message, so it is not built on every run.
        var expected: String { CacheBackend.allCases.map(\.rawValue).joined(separator: ", ") }
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
        self.init(cacheBackend: backend, tokenDirectory: environment.cacheHome + "/docker-credential-ecr",
                  toolConfig: toolConfig, toolConfigError: toolConfigError)
        if let value = environment["DOCKER_CREDENTIAL_ECR_KERNEL_KEYRING"] {
            kernelKeyring = try Self.switchValue(value, source: "DOCKER_CREDENTIAL_ECR_KERNEL_KEYRING")
        } else if let value = toolConfig?.cacheSettings["kernel_keyring"] {
            kernelKeyring = try Self.switchValue(value, source: "\(toolConfig?.path ?? "config") [cache] kernel_keyring")
        }
        if let value = environment[Self.throttlingBudgetVariable] {
            guard let seconds = Double(value), seconds >= 0, seconds <= 300 else {
                throw InvalidSetting(source: Self.throttlingBudgetVariable, value: value, expected: "0 to 300 (seconds)")
            }
            throttlingBudget = seconds
        }
    }

    /// The variable that sets `throttlingBudget`.
    package static let throttlingBudgetVariable = "DOCKER_CREDENTIAL_ECR_THROTTLING_BUDGET"

    /// `on`/`off` (also `true`/`false`, `yes`/`no`, `1`/`0`), any case.
    private static func switchValue(_ value: String, source: String) throws -> Bool {
        switch value.lowercased() {
        case "on", "true", "yes", "1": return true
        case "off", "false", "no", "0": return false
        default: throw InvalidSetting(source: source, value: value, expected: "on, off")
        }
    }
}
