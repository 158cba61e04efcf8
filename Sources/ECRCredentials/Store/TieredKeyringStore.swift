// The keyring as two tiers: the kernel keyring in front of the Secret Service.

/// Keyring mode's store: the kernel keyring (`KernelKeyringStore`, memory, two system calls a
/// lookup) in front of the Secret Service (`KeyringCredentialStore`, durable, a D-Bus round trip).
///
/// Reads try the kernel first; a miss asks the Secret Service and copies what it finds (or, for
/// a login, that there is none) into the kernel. Writes go to the Secret Service first, then to
/// the kernel; removals go to both. A token saved for a registry replaces the tokens of that
/// registry kept for other identities, in both tiers, so a change of identity leaves no old token
/// behind. The kernel tier never makes an operation fail except a removal: an entry that could
/// not be removed from it would otherwise still be served. Every kernel write carries the
/// generation read before the Secret Service was read or written (see `KernelKeyringStore`), so
/// a copy made while another process stored or removed, anywhere, never answers.
package final class TieredKeyringStore: CredentialStore {
    /// "keyring".
    package let name = "keyring"
    /// The fast tier.
    package let fast: KernelKeyringStore
    /// The durable tier.
    package let durable: any CredentialStore
    private let diagnostics: Diagnostics
    private let answered: KernelTierAnswers?

    /// Creates the pair.
    /// - Parameter answered: what the kernel tier already answered in this request; those
    ///   entries are not asked of it again.
    package init(fast: KernelKeyringStore, durable: any CredentialStore, diagnostics: Diagnostics = Diagnostics(),
                answered: KernelTierAnswers? = nil) {
        self.fast = fast
        self.durable = durable
        self.diagnostics = diagnostics
        self.answered = answered
    }

    package func record(kind: CredentialRecord.Kind, registry: String, identity: String) throws -> CredentialRecord? {
        switch answered?.take(kind: kind, registry: registry, identity: identity) ?? fastAnswer(kind: kind, registry: registry, identity: identity) {
        case .login(.stored(let login)): return login
        case .login(.none): return nil
        case .record(let hit?): return hit
        case .login(.unknown), .record(nil): break
        }
        // A `store` or a removal in another process between the Secret Service's answer and the
        // copy would leave an outdated copy: the generation shows it, and the copy is taken back.
        let generation = fast.generationBeforeWrite()
        let started = MonotonicTime.seconds()
        let found = try durable.record(kind: kind, registry: registry, identity: identity)
        diagnostics.debug("\(registry): \(kind.rawValue) lookup (Secret Service) took \(TokenService.milliseconds(since: started)) ms")
        copyToFastTier(found, kind: kind, registry: registry, identity: identity, generation: generation)
        if let generation, fast.currentGeneration() != generation {
            diagnostics.debug("\(registry): the keyring changed while it was read; not keeping the copy in the kernel keyring")
            fast.withdraw(kind: kind, registry: registry, identity: identity)
        }
        return found
    }

    package func save(_ record: CredentialRecord) throws {
        let generation = fast.generationBeforeWrite()
        do {
            try durable.save(record)
        } catch {
            if record.kind == .login {
                // The login goes elsewhere (auto mode's file) or nowhere, and the Secret Service may
                // still take the write late: no copy of the old login (nor a note that there was
                // none) may answer for it, here or in another namespace. A new generation retires them.
                do {
                    try fast.remove(kind: .login, registry: record.registry, identity: record.identity)
                } catch {
                    diagnostics.warning("\(record.registry): could not remove the older login from the kernel keyring: \(error)")
                }
            }
            throw error
        }
        if record.kind == .token {
            do {
                try durable.removeTokens(registry: record.registry, except: record.identity)
            } catch {
                diagnostics.warning("\(record.registry): could not remove the tokens of other identities from the \(durable.name) store: \(error)")
            }
        }
        do {
            if record.kind == .login {
                // A new login: a new generation retires the old one's copies in every namespace
                // (and those being made in other processes), and this keyring's in every scope.
                try fast.replaceLogin(record, after: generation)
            } else {
                try fast.save(record, generation: generation)
                try fast.removeTokens(registry: record.registry, except: record.identity)
            }
        } catch {
            diagnostics.debug("\(record.registry): not kept in the kernel keyring: \(error)")
        }
    }

    package func remove(kind: CredentialRecord.Kind, registry: String, identity: String) throws {
        try durable.remove(kind: kind, registry: registry, identity: identity)
        try fast.remove(kind: kind, registry: registry, identity: identity)
    }

    @discardableResult
    package func removeAll(registry: String) throws -> Int {
        let removed = try durable.removeAll(registry: registry)
        let copies = try fast.removeAll(registry: registry)
        return max(removed, copies)
    }

    @discardableResult
    package func removeTokens(registry: String, except identity: String) throws -> Int {
        let removed = try durable.removeTokens(registry: registry, except: identity)
        let copies = try fast.removeTokens(registry: registry, except: identity)
        return max(removed, copies)
    }

    /// The Secret Service's records, and those only the kernel still holds (the Secret Service
    /// was cleared by another program, say), so `list` and `logout` see everything.
    package func allRecords() throws -> [CredentialRecord] {
        let records = try durable.allRecords()
        let known = Set(records.map { "\($0.kind.rawValue) \($0.identity) \($0.registry)" })
        let onlyFast = ((try? fast.allRecords()) ?? []).filter { !known.contains("\($0.kind.rawValue) \($0.identity) \($0.registry)") }
        return records + onlyFast
    }

    /// What the kernel tier holds for the entry (a login's state; a token, nil for a miss).
    private func fastAnswer(kind: CredentialRecord.Kind, registry: String, identity: String) -> KernelTierAnswers.Answer {
        let started = MonotonicTime.seconds()
        defer { diagnostics.debug("\(registry): \(kind.rawValue) lookup (kernel keyring) took \(TokenService.milliseconds(since: started)) ms") }
        if kind == .login, identity.isEmpty { return .login(fast.loginState(registry: registry)) }
        return .record((try? fast.record(kind: kind, registry: registry, identity: identity)) ?? nil)
    }

    /// Copies what the Secret Service answered into the kernel, under the generation read before
    /// it was asked; a login's absence is noted too.
    private func copyToFastTier(_ found: CredentialRecord?, kind: CredentialRecord.Kind, registry: String, identity: String,
                                generation: KernelKeyringStore.Generation?) {
        do {
            if let found {
                try fast.save(found, generation: generation)
            } else if kind == .login, identity.isEmpty {
                try fast.saveNoLogin(registry: registry, generation: generation)
            }
        } catch {
            diagnostics.debug("\(registry): not copied to the kernel keyring: \(error)")
        }
    }
}
