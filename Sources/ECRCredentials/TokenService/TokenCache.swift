// Where the token service keeps tokens for one run.

/// The token store of one run, chosen by the front end from the backend setting. A class, for
/// the reason `CredentialStores` is one.
package final class TokenCache: Sendable {
    /// Where tokens are read and written; nil when nothing is cached.
    package let store: (any CredentialStore)?
    /// Stores that may hold older copies of tokens that `store` now keeps (the token files, when
    /// the keyring took over): a saved token's registry is removed from them, so a token never
    /// stays on disk once it lives in the keyring.
    package let superseded: [any CredentialStore]
    /// Why the wanted keyring is not used, when it was wanted: the keyring's own error
    /// (`KeyringCredentialStore.Unavailable`, ...), for a warning.
    package let problem: (any Error)?

    /// Creates a cache over `store` (nil: nothing is cached).
    package init(store: (any CredentialStore)?, superseded: [any CredentialStore] = [], problem: (any Error)? = nil) {
        self.store = store
        self.superseded = superseded
        self.problem = problem
    }

    /// No caching: every request asks ECR.
    package static let disabled = TokenCache(store: nil)
}
