// What the kernel keyring tier answered during one request, carried to the tiered store.

/// The kernel keyring tier's answers of one request, noted where a front end asked the tier on
/// its own (before opening the Secret Service) and taken by `TieredKeyringStore`, which then asks
/// the Secret Service without asking the kernel again. Each answer is taken once: a later lookup
/// of the same entry (the one under the fetch lock) asks the kernel again, since another process
/// may have changed it meanwhile.
///
/// Not thread-safe: one instance per request, used from one thread.
package final class KernelTierAnswers: @unchecked Sendable {
    /// What the tier held for one entry.
    package enum Answer: Sendable, Equatable {
        /// A login (its state: stored, "no login" note, or not known here).
        case login(KernelKeyringStore.LoginState)
        /// A record (a token), or nil for a miss.
        case record(CredentialRecord?)
    }

    // One request concerns one registry: one login answer and one token answer at most. (Plain
    // enums rather than a dictionary or optional tuples, whose generic metadata would cost every
    // request run-time lookups.)
    private enum NotedLogin {
        case nothing
        case noted(registry: String, state: KernelKeyringStore.LoginState)
    }

    private enum NotedToken {
        case nothing
        case noted(registry: String, identity: String, record: CredentialRecord?)
    }

    private var login = NotedLogin.nothing
    private var token = NotedToken.nothing

    /// No answers yet.
    package init() {}

    /// Notes the login state the tier gave for `registry`.
    package func noteLogin(_ state: KernelKeyringStore.LoginState, registry: String) {
        login = .noted(registry: registry, state: state)
    }

    /// Notes the token (nil: none) the tier gave for `registry` and `identity`.
    package func noteToken(_ record: CredentialRecord?, registry: String, identity: String) {
        token = .noted(registry: registry, identity: identity, record: record)
    }

    /// The answer noted for this entry, removed so that it is used once; nil when none was noted.
    package func take(kind: CredentialRecord.Kind, registry: String, identity: String) -> Answer? {
        switch kind {
        case .login:
            guard case .noted(registry, let state) = login, identity.isEmpty else { return nil }
            login = .nothing
            return .login(state)
        case .token:
            guard case .noted(registry, identity, let record) = token else { return nil }
            token = .nothing
            return .record(record)
        }
    }
}
