// What the token service answers: a registry password, its expiry, and where it came from.

/// An ECR authorization token for one registry, as the token service hands it to a front end.
public struct IssuedToken: Sendable, Equatable {
    /// Where the token came from.
    public enum Source: Sendable, Equatable {
        /// The cache, still fresh (less than half its life used).
        case cache
        /// ECR, just now.
        case fetched
        /// The cache, past its half-life, because the refresh failed for a passing reason.
        case staleFallback
    }

    /// The registry host the token is for.
    public var registry: String
    /// The user name, `AWS` for ECR.
    public var username: String
    /// The password a client sends to the registry.
    public var password: String
    /// When it was issued (seconds since 1970).
    public var issuedAt: Double
    /// When ECR stops accepting it (seconds since 1970); nil when unknown.
    public var expiresAt: Double?
    /// Cache hit, fresh fetch or stale fallback.
    public var source: Source

    package init(registry: String, username: String, password: String, issuedAt: Double, expiresAt: Double?, source: Source) {
        self.registry = registry
        self.username = username
        self.password = password
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.source = source
    }

    init(_ record: CredentialRecord, source: Source) {
        self.init(registry: record.registry, username: record.username, password: record.secret, issuedAt: record.issuedAt,
                  expiresAt: record.expiresAt, source: source)
    }

    /// Seconds of validity left at `now`; 0 when expired, nil when the expiry is unknown.
    public func remainingLifetime(at now: Double) -> Double? {
        expiresAt.map { max(0, $0 - now) }
    }
}
