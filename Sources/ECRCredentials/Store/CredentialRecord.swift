// What is kept for a registry: a token fetched from ECR, or a login handed over by `store`.

/// A credential kept for one registry.
package struct CredentialRecord: Codable, Sendable, Equatable {
    /// Fetched by this tool or handed over by a client.
    package enum Kind: String, Codable, Sendable {
        /// An ECR authorization token this tool fetched; keyed by AWS identity.
        case token
        /// Credentials `docker login`, `nerdctl login` or `podman login` handed to `store`.
        case login
    }

    /// The record format; records of another version are ignored (and later overwritten).
    package static let currentVersion = 1

    /// The format version.
    package var version: Int
    /// Token or login.
    package var kind: Kind
    /// The registry key: the lower-case host, with the port unless it is 443.
    package var registry: String
    /// The server URL as the client gave it (what `list` reports).
    package var serverURL: String
    /// The AWS identity fingerprint of a token; empty for logins.
    package var identity: String
    /// The user name (`AWS` for ECR).
    package var username: String
    /// The password or token.
    package var secret: String
    /// When it was fetched or stored (seconds since 1970).
    package var issuedAt: Double
    /// When it stops working (seconds since 1970); nil when unknown and unlimited.
    package var expiresAt: Double?

    package init(kind: Kind, registry: String, serverURL: String, identity: String, username: String, secret: String,
                issuedAt: Double, expiresAt: Double?) {
        self.version = Self.currentVersion
        self.kind = kind
        self.registry = registry
        self.serverURL = serverURL
        self.identity = identity
        self.username = username
        self.secret = secret
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }

    /// Whether its times are plausible (see `EpochSeconds`); a record read from outside that
    /// is not is treated as corrupt.
    package var hasPlausibleTimes: Bool {
        EpochSeconds.validated(issuedAt) != nil && (expiresAt.map { EpochSeconds.validated($0) != nil } ?? true)
    }

    /// The longest lifetime a cached token may claim: 7 days (ECR issues 12-hour tokens).
    package static let maximumTokenLifetime: Double = 7 * 86_400

    /// Whether it can be what this tool wrote: plausible times, a secret (`store` refuses an empty
    /// one), and, for a token, an expiry no earlier than its issue and a lifetime of at most
    /// `maximumTokenLifetime`. A record read from outside that is not is treated as corrupt.
    package var isPlausible: Bool {
        guard hasPlausibleTimes else { return false }
        guard kind == .token else { return !secret.isEmpty }
        guard let expiresAt, !secret.isEmpty else { return false }
        return issuedAt <= expiresAt && expiresAt - issuedAt <= Self.maximumTokenLifetime
    }

    /// Whether it still works at `now` with `margin` seconds to spare.
    package func isUsable(at now: Double, margin: Double = 60) -> Bool {
        guard let expiresAt else { return true }
        return now < expiresAt - margin
    }

    /// Whether a token should still be served without refreshing: until half its lifetime has
    /// passed (as the AWS tools do), so a served token always has hours left.
    package func isFresh(at now: Double) -> Bool {
        guard let expiresAt else { return true }
        return now < issuedAt + (expiresAt - issuedAt) / 2 && now < expiresAt
    }
}

/// A place where credential records are kept: the keyring or private files.
///
/// Stores are classes: a store handed around a request, alone or in an optional, is one reference,
/// which costs a retain to copy; a value type behind `any CredentialStore` is copied through its
/// type's metadata, built at run time on the first copy.
package protocol CredentialStore: AnyObject, Sendable {
    /// A short name for messages ("file", "keyring").
    var name: String { get }
    /// The record of a kind for a registry and identity; nil when absent, corrupt or foreign.
    func record(kind: CredentialRecord.Kind, registry: String, identity: String) throws -> CredentialRecord?
    /// Saves a record, replacing the one with the same kind, registry and identity.
    func save(_ record: CredentialRecord) throws
    /// Removes one record; succeeds when it is absent.
    func remove(kind: CredentialRecord.Kind, registry: String, identity: String) throws
    /// Removes every record of a registry (every kind and identity); returns how many.
    @discardableResult
    func removeAll(registry: String) throws -> Int
    /// Every readable record.
    func allRecords() throws -> [CredentialRecord]
    /// Removes the tokens of `registry` kept for identities other than `identity`; returns how many.
    @discardableResult
    func removeTokens(registry: String, except identity: String) throws -> Int
}

extension CredentialStore {
    /// Removes the other identities' tokens one by one, as `allRecords` lists them.
    @discardableResult
    package func removeTokens(registry: String, except identity: String) throws -> Int {
        var removed = 0
        for record in try allRecords() where record.kind == .token && record.registry == registry && record.identity != identity {
            try remove(kind: .token, registry: registry, identity: record.identity)
            removed += 1
        }
        return removed
    }
}
