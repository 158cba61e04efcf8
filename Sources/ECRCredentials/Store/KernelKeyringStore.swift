// Credential records in the Linux kernel's user keyring: the fast tier in front of the Secret Service.
import CKernelKeyring

#if canImport(Glibc)
import Glibc
#endif

/// Keeps records as `user` keys in a keyring named `docker-credential-ecr` inside the user's
/// kernel keyring (`KEY_SPEC_USER_KEYRING`), so a lookup costs three system calls (after two, once
/// per process, that find and check the keyring) and no D-Bus.
///
/// - Where: kernel memory only. Keys are never written to disk, never swapped, never in a backup;
///   they are gone at reboot. The user keyring is shared by every session of the user and
///   outlives logout; each key expires by itself (the kernel's key timeout) when its token does,
///   and logins and "no login" entries after at most `loginLifetime`, so the Secret Service is
///   asked again at least that often.
/// - Who: the keys and the keyring allow view, read, write, search, link and set-attribute to
///   the owning user, and nothing to anyone else: no possessor rights (another user's process
///   possesses the user keyring after a plain `su`, which keeps the session keyring that links
///   it), no group, no others. A key that belongs to another user, or whose permissions are wider
///   than that (made by an earlier version, or widened since: anyone may have read or rewritten
///   it), is never served: it is invalidated on sight. A keyring of this name with wider
///   permissions is narrowed before any key in it is read (or, when it cannot be, not used).
/// - Scope: key descriptions carry `scope`, a digest of the session bus, since each bus has its
///   own Secret Service whose entries the tier copies. Reads stay in the scope; removals (`erase`,
///   `logout`) reach every scope, so no copy outlives them however the bus was named.
/// - Quota: a non-root user may keep 20,000 bytes of keys by default
///   (`/proc/sys/kernel/keys/maxbytes`), about six ECR tokens. When it is full, this tool's own
///   entries that expire soonest make room, as many as needed and none when even that would not
///   be enough; entries over `payloadLimit` bytes are not kept here at all.
/// - Refusal: where the key calls are refused (a seccomp profile, as Docker's default, or a
///   kernel without keys), every call after the first one is skipped and the tier is simply
///   empty.
/// - Generation: every entry carries the user's generation (`Generation`) it was written under,
///   and answers only while the generation file (`GenerationFile`, beside the token cache) still
///   holds that value. Every `store`, `erase` and `logout` writes a new one after changing the
///   durable store, so a change made where this keyring cannot be reached (a seccomp filter, or
///   a user namespace such as rootless podman's, which has a keyring of its own or none) retires
///   the copies kept everywhere else at once; and a copy made from the Secret Service while
///   another process changed it is dead on arrival (it carries the value read before the Secret
///   Service was asked). An entry of an earlier generation is invalidated on sight.
///
/// A description is `docker-credential-ecr:1:<scope>:<kind>:<identity>:<registry>` (identity `-`
/// for logins); the payload is a version line, the generation, then kind, registry, identity,
/// server URL, user name, issued-at and expires-at lines, then the secret. Besides records it
/// keeps, per registry, whether the Secret Service holds no login (`LoginState.none`), so that a
/// hit never asks it. Not thread-safe: one instance per process, used from one thread.
package final class KernelKeyringStore: CredentialStore, @unchecked Sendable {
    /// What the tier knows about a registry's login.
    package enum LoginState: Sendable, Equatable {
        /// The login the durable store holds.
        case stored(CredentialRecord)
        /// The durable store holds no login for the registry.
        case none
        /// Not known here: ask the durable store.
        case unknown
    }

    /// "kernel keyring".
    package let name = "kernel keyring"
    /// The digest that separates the entries copied from one Secret Service from another's.
    package let scope: String
    /// Longest life of a login or "no login" entry, in seconds. Default 3600.
    package let loginLifetime: UInt32
    let keys: any KernelKeyCalls
    private let clock: any WallClock
    let diagnostics: Diagnostics
    private let parentKeyring: Int32
    let quota: @Sendable () -> Quota?
    private let user = "\(getuid())"
    private var ourKeyring: Int32?
    private var refused: KernelKeyFailure?
    /// The file whose generation every entry is checked against.
    package let generationFile: GenerationFile
    /// The generation last read from the file (outer nil: not read yet in this process).
    private var knownGeneration: Generation??
    /// Why the generation file could not be used, when it was read and could not.
    private var generationFailure: GenerationFile.Unusable?
    private var warnedUnrecorded = false

    /// The keyring that holds this tool's keys, inside the user keyring.
    package static let keyringName = "docker-credential-ecr"
    /// The largest payload kept (ECR tokens are about 2,500 bytes; a `user` key could hold 32,767).
    static let payloadLimit = 8192
    static let payloadHeader = "docker-credential-ecr 2"
    /// The per-registry generation keys of earlier versions: never taken for entries.
    private static let generationPrefix = "\(keyringName):1:generation:"
    /// The owning user's rights only: view, read, write, search, link, set-attribute.
    static let permissions = UInt32(CKERNELKEYRING_USR_ALL)

    /// Creates the tier.
    /// - Parameters:
    ///   - scope: separates Secret Services; see `scope(environment:)`.
    ///   - generationFile: the user's generation, beside the token cache (`TokenSettings.tokenDirectory`).
    ///   - keys: the kernel, or a substitute in tests.
    ///   - parentKeyring: where this tool's keyring lives; the user keyring by default.
    ///   - quota: reads the user's key quota; `/proc/key-users` by default.
    package init(scope: String, generationFile: GenerationFile, keys: any KernelKeyCalls = SystemKernelKeys(), clock: any WallClock = SystemClock(),
                diagnostics: Diagnostics = Diagnostics(), parentKeyring: Int32 = SystemKernelKeys.userKeyring,
                loginLifetime: UInt32 = 3600, quota: @escaping @Sendable () -> Quota? = KernelKeyringStore.quota) {
        self.scope = scope
        self.generationFile = generationFile
        self.quota = quota
        self.keys = keys
        self.clock = clock
        self.diagnostics = diagnostics
        self.parentKeyring = parentKeyring
        self.loginLifetime = loginLifetime
    }

    /// Whether a call was refused (so the tier is off for this process), and why.
    package var refusal: KernelKeyFailure? { refused }

    // MARK: CredentialStore

    package func record(kind: CredentialRecord.Kind, registry: String, identity: String) throws -> CredentialRecord? {
        guard let entry = lookup(kind: kind, registry: registry, identity: identity), case .record(let record) = entry else { return nil }
        return record
    }

    /// What the tier knows about `registry`'s login.
    package func loginState(registry: String) -> LoginState {
        switch lookup(kind: .login, registry: registry, identity: "") {
        case .record(let record)?: .stored(record)
        case .noLogin?: .none
        case nil: .unknown
        }
    }

    /// Saves a record under the generation read now (see `save(_:generation:)`).
    package func save(_ record: CredentialRecord) throws {
        try save(record, generation: generationBeforeWrite())
    }

    /// Saves a record under `generation`, which must have been read before the durable store was
    /// read or written (`generationBeforeWrite()`); a token's key expires with it, a login's after
    /// `loginLifetime` at most. A record that cannot be kept here (no generation, expired, a line
    /// break outside the secret, too long, no room) removes the entry it would have replaced, so
    /// an older login, or the note that there was none, never answers in its place.
    /// - Throws: `KernelKeyFailure` when the kernel refuses it (quota, size, refusal).
    package func save(_ record: CredentialRecord, generation: Generation?) throws {
        let now = clock.now().timeIntervalSince1970
        var lifetime = record.kind == .login ? Double(loginLifetime) : EpochSeconds.maximumDuration
        if let expiresAt = record.expiresAt { lifetime = min(lifetime, expiresAt - now) }
        guard lifetime >= 1, let generation, let payload = Self.payload(record, generation: generation) else {
            diagnostics.debug("\(record.registry): not kept in the kernel keyring (no generation, expired, a line break outside the secret, or too long)")
            try removeEntries(allScopes: false) { $0.kind == record.kind && $0.registry == record.registry && $0.identity == record.identity }
            return
        }
        do {
            try put(description: description(kind: record.kind, registry: record.registry, identity: record.identity),
                    payload: payload, lifetime: lifetime)
        } catch {
            _ = try? removeEntries(allScopes: false) { $0.kind == record.kind && $0.registry == record.registry && $0.identity == record.identity }
            throw error
        }
    }

    /// Notes, under the generation read now, that the durable store holds no login for `registry`.
    package func saveNoLogin(registry: String) throws {
        try saveNoLogin(registry: registry, generation: generationBeforeWrite())
    }

    /// Notes that the durable store holds no login for `registry`, for `loginLifetime` seconds,
    /// under `generation` (read before the durable store was asked); nothing without one.
    package func saveNoLogin(registry: String, generation: Generation?) throws {
        guard let generation else { return }
        let payload = Array("\(Self.payloadHeader)\n\(generation.text)\nnone\n\(registry)\n".utf8)
        try put(description: description(kind: .login, registry: registry, identity: ""), payload: payload,
                lifetime: Double(loginLifetime))
    }

    /// A new login, written to the durable store after `before` was read: a new generation
    /// retires every copy of the old login (or of the note that there was none), in every
    /// namespace; this keyring's old copies go, in every scope; and the login is kept under the
    /// new generation, unless another process changed the generation in between (then the next
    /// lookup copies it from the durable store).
    package func replaceLogin(_ record: CredentialRecord, after before: Generation?) throws {
        let changed = recordChange(expected: before)
        try removeEntries(allScopes: true) { $0.kind == .login && $0.registry == record.registry && $0.identity.isEmpty }
        guard let changed, changed.followed else {
            diagnostics.debug("\(record.registry): the new login is copied into the kernel keyring at the next lookup")
            return
        }
        try save(record, generation: changed.generation)
    }

    /// Removes the entry in every scope, after a new generation retired its copies everywhere.
    package func remove(kind: CredentialRecord.Kind, registry: String, identity: String) throws {
        recordChange()
        try removeEntries(allScopes: true) { $0.kind == kind && $0.registry == registry && $0.identity == identity }
    }

    /// Removes every entry of `registry` in every scope (tokens of every identity, the login and
    /// the "no login" note), after a new generation retired their copies everywhere; returns how
    /// many tokens and logins this scope had.
    @discardableResult
    package func removeAll(registry: String) throws -> Int {
        recordChange()
        return try removeEntries(allScopes: true) { $0.registry == registry }
    }

    /// Removes the tokens of `registry` this scope keeps for identities other than `identity`.
    /// The generation stays: those tokens are still valid for their own identities.
    @discardableResult
    package func removeTokens(registry: String, except identity: String) throws -> Int {
        try removeEntries(allScopes: false) { $0.registry == registry && $0.kind == .token && $0.identity != identity }
    }

    /// Removes every entry of these kinds in every scope, of `registries` or of all (`logout`),
    /// after a new generation retired their copies everywhere; a login's removal also takes the
    /// notes that there was none.
    package func removeEverything(of kinds: Set<CredentialRecord.Kind>, registries: Set<String>? = nil) throws {
        recordChange()
        try removeEntries(allScopes: true) { kinds.contains($0.kind) && (registries?.contains($0.registry) ?? true) }
    }

    /// Takes back this scope's copy of an entry, without changing the generation (a copy that
    /// another process's `store` or removal overtook).
    package func withdraw(kind: CredentialRecord.Kind, registry: String, identity: String) {
        _ = try? removeEntries(allScopes: false) { $0.kind == kind && $0.registry == registry && $0.identity == identity }
    }

    /// The records of this scope that the current generation vouches for.
    package func allRecords() throws -> [CredentialRecord] {
        let listed = try entries(allScopes: false)
        if !listed.isEmpty { knownGeneration = .some(readGeneration()) }
        return listed.compactMap { entry in
            guard entry.isPrivate else {
                discard(entry.serial, registry: entry.registry)
                return nil
            }
            guard let kept = read(entry.serial, kind: entry.kind, registry: entry.registry, identity: entry.identity),
                  isCurrent(kept.generation, serial: entry.serial, registry: entry.registry, reread: false),
                  case .record(let record) = kept.entry
            else { return nil }
            return record
        }
    }

    // MARK: generation

    /// The generation in the file now (read afresh); nil when there is none, or it is unusable.
    package func currentGeneration() -> Generation? {
        let generation = readGeneration()
        knownGeneration = .some(generation)
        return generation
    }

    /// The generation to write the next copies under, read before the durable store is read or
    /// written: a change by another process after that retires them. When the file is missing or
    /// unusable a new one is written (no copy answers anyway until then). Nil where the kernel
    /// refuses this tool's keyring, or the file cannot be written: nothing is kept here then.
    package func generationBeforeWrite() -> Generation? {
        guard (try? keyring(create: true)) != nil else { return nil }
        if let current = currentGeneration() { return current }
        do {
            let written = try generationFile.advance().generation
            knownGeneration = .some(written)
            return written
        } catch {
            diagnostics.debug("the kernel keyring generation cannot be written, so nothing is kept in the kernel keyring: \(error)")
            return nil
        }
    }

    /// Why the generation file cannot vouch for any entry, when it was read and could not.
    package var generationProblem: GenerationFile.Unusable? { generationFailure }

    /// Reads the file; nil when it is missing or unusable (noting why).
    private func readGeneration() -> Generation? {
        do {
            generationFailure = nil
            return try generationFile.read()
        } catch {
            generationFailure = error
            diagnostics.debug("\(error); the kernel keyring's copies are not used")
            return nil
        }
    }

    /// The generation entries must carry to answer: read from the file once per process.
    private func expectedGeneration() -> Generation? {
        if let knownGeneration { return knownGeneration }
        return currentGeneration()
    }

    /// Whether an entry written under `generation` may answer. On a mismatch the file is read
    /// again (`reread`; another process may have changed it since this one read it); an entry of
    /// another generation is invalidated, as no process can ever vouch for it again.
    private func isCurrent(_ generation: Generation, serial: Int32, registry: String, reread: Bool = true) -> Bool {
        let readBefore = knownGeneration != nil
        if let expected = expectedGeneration(), expected == generation { return true }
        if reread, readBefore, let current = currentGeneration(), current == generation { return true }
        diagnostics.debug("\(registry): a kernel keyring entry of an earlier generation is not used; removing it")
        _ = try? guarded { () throws(KernelKeyFailure) in try keys.invalidate(serial) }
        return false
    }

    /// Records a change of the durable store: a new generation, so that no copy made before it
    /// answers anywhere. Nothing is written when the file holds no usable generation (then no
    /// copy answers anyway). When the file cannot be written, says once that copies kept by
    /// other processes stay until they expire.
    /// - Parameter expected: the generation read before the durable store was changed.
    /// - Returns: the new generation, and whether the file still held `expected` when it was
    ///   written; nil when nothing was written.
    @discardableResult
    private func recordChange(expected: Generation? = nil) -> (generation: Generation, followed: Bool)? {
        guard (try? generationFile.read()) != nil else {
            knownGeneration = .some(nil)
            return nil
        }
        do {
            let changed = try generationFile.advance(expected: expected)
            knownGeneration = .some(changed.generation)
            return changed
        } catch {
            if !warnedUnrecorded {
                warnedUnrecorded = true
                diagnostics.warning("the kernel keyring generation cannot be changed (\(error)); copies other processes of this user "
                                    + "keep in the kernel keyring are not retired: they expire within \(loginLifetime / 60) minutes "
                                    + "(logins) or with their token")
            }
            return nil
        }
    }

    // MARK: entries

    /// A key's content.
    enum Entry: Equatable {
        case record(CredentialRecord)
        case noLogin(registry: String)
    }

    /// A key's content and the generation it was written under.
    struct Kept: Equatable {
        var generation: Generation
        var entry: Entry
    }

    /// A key of this tool, from its description.
    struct Listed {
        var serial: Int32
        var scope: String
        var kind: CredentialRecord.Kind
        var identity: String
        var registry: String
        var description: String
        /// Whether its permissions give nothing beyond the owning user's rights.
        var isPrivate: Bool
    }

    private func description(kind: CredentialRecord.Kind, registry: String, identity: String) -> String {
        "\(Self.keyringName):1:\(scope):\(kind.rawValue):\(identity.isEmpty ? "-" : identity):\(registry)"
    }

    private func lookup(kind: CredentialRecord.Kind, registry: String, identity: String) -> Entry? {
        do {
            // This tool's keyring is found (and narrowed, when wider than the user's own rights)
            // before any key in it is read: two calls, once per process.
            guard let keyring = try keyring(create: false),
                  let serial = try guarded({ () throws(KernelKeyFailure) in
                      try keys.search(keyring: keyring, type: "user",
                                      description: description(kind: kind, registry: registry, identity: identity))
                  }) ?? nil
            else { return nil }
            guard let described = (try? keys.describe(serial)).flatMap(Described.init), described.owner == user else {
                diagnostics.debug("\(registry): ignoring a kernel keyring entry of another user")
                return nil
            }
            guard isPrivate(described) else {
                discard(serial, registry: registry)
                return nil
            }
            guard let kept = read(serial, kind: kind, registry: registry, identity: identity),
                  isCurrent(kept.generation, serial: serial, registry: registry)
            else { return nil }
            return kept.entry
        } catch {
            diagnostics.debug("\(registry): kernel keyring lookup failed: \(error)")
            return nil
        }
    }

    /// Whether a key's permissions give nothing beyond the owning user's own rights.
    private func isPrivate(_ described: Described) -> Bool {
        guard let permissions = described.permissions else { return false }
        return permissions & ~Self.permissions == 0
    }

    /// Invalidates a key whose permissions are wider than the user's own rights: whoever could
    /// reach it may have read or rewritten it, so it is not served; when it cannot be invalidated,
    /// it is at least narrowed.
    private func discard(_ serial: Int32, registry: String) {
        diagnostics.debug("\(registry): a kernel keyring entry open to others is not used; removing it")
        do {
            try keys.invalidate(serial)
        } catch {
            try? keys.setPermissions(serial, Self.permissions)
        }
    }

    /// What `keyctl(KEYCTL_DESCRIBE)` says of a key: `type;uid;gid;perm;description`.
    private struct Described {
        var type: Substring
        var owner: Substring
        var permissions: UInt32?
        var name: Substring

        init?(_ text: String) {
            let fields = text.split(separator: ";", maxSplits: 4, omittingEmptySubsequences: false)
            guard fields.count == 5 else { return nil }
            (type, owner, permissions, name) = (fields[0], fields[1], UInt32(fields[3], radix: 16), fields[4])
        }
    }

    /// The entry in key `serial` and its generation, when it is what its description says; nil otherwise.
    private func read(_ serial: Int32, kind: CredentialRecord.Kind, registry: String, identity: String) -> Kept? {
        let bytes: [UInt8]
        do {
            guard let read = try guarded({ () throws(KernelKeyFailure) in try keys.read(serial, limit: Self.payloadLimit) }) else { return nil }
            bytes = read
        } catch {
            diagnostics.debug("\(registry): kernel keyring read failed: \(error)")
            return nil
        }
        guard let kept = Self.kept(from: bytes), Self.matches(kept.entry, kind: kind, registry: registry, identity: identity) else {
            diagnostics.debug("\(registry): ignoring a kernel keyring entry that is not what its name says")
            return nil
        }
        return kept
    }

    private static func matches(_ entry: Entry, kind: CredentialRecord.Kind, registry: String, identity: String) -> Bool {
        switch entry {
        case .noLogin(let noted): return kind == .login && identity.isEmpty && noted == registry
        case .record(let record):
            return record.kind == kind && record.registry == registry && record.identity == identity && record.isPlausible
        }
    }

    /// The user's keys of this tool, in this scope or in every scope.
    func entries(allScopes: Bool) throws -> [Listed] {
        guard let keyring = try keyring(create: false),
              let list = try guarded({ () throws(KernelKeyFailure) in try keys.read(keyring, limit: 4 * 65_536) })
        else { return [] }
        var listed: [Listed] = []
        for index in 0..<(list.count / 4) {
            let serial = list.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index * 4, as: Int32.self) }
            // A key that went away meanwhile is simply skipped.
            guard let described = (try? keys.describe(serial)).flatMap(Described.init), described.type == "user",
                  described.owner == user, let parsed = Self.parseName(described.name), allScopes || parsed.scope == scope
            else { continue }
            listed.append(Listed(serial: serial, scope: String(parsed.scope), kind: parsed.kind, identity: parsed.identity,
                                 registry: parsed.registry, description: String(described.name), isPrivate: isPrivate(described)))
        }
        return listed
    }

    /// Removes the keys `matching` picks; counts this scope's records, not "no login" notes.
    @discardableResult
    private func removeEntries(allScopes: Bool, _ matching: (Listed) -> Bool) throws -> Int {
        let listed = try entries(allScopes: allScopes)
        var removed = 0
        let ours = "\(Self.keyringName):1:\(scope):"
        for entry in listed where matching(entry) {
            if entry.description.hasPrefix(ours), case .record? = read(entry.serial, kind: entry.kind, registry: entry.registry, identity: entry.identity)?.entry {
                removed += 1
            }
            try guarded { () throws(KernelKeyFailure) in try keys.invalidate(entry.serial) }
        }
        return removed
    }

    // MARK: writing

    /// Adds or replaces a key, restricts it to the user and sets its timeout. When the quota is
    /// used up, this tool's entries that expire soonest are dropped to make room, unless even
    /// dropping all of them would not.
    private func put(description: String, payload: [UInt8], lifetime: Double, create: Bool = true) throws {
        guard let keyring = try keyring(create: create) else { return }
        let seconds = UInt32(min(max(lifetime.rounded(.down), 1), Double(UInt32.max)))
        var evictable: [(serials: [Int32], expiresAt: Double)]?
        while true {
            do {
                let serial = try keys.add(type: "user", description: description, payload: payload, keyring: keyring)
                try keys.setPermissions(serial, Self.permissions)
                try keys.setTimeout(serial, seconds: seconds)
                return
            } catch where error.isQuotaExceeded {
                if evictable == nil { evictable = try evictionOrder(except: description, needed: description.utf8.count + 1 + payload.count) }
                guard let next = evictable?.first else { throw error }
                evictable?.removeFirst()
                diagnostics.debug("the kernel keyring quota is full; dropping \(next.serials.count) entries of a registry whose token expires at \(EpochSeconds.text(next.expiresAt))")
                for serial in next.serials {
                    // An invalidated key gives its quota back only when the kernel's garbage
                    // collector runs; shrinking its payload first gives most of it back at once.
                    try? keys.update(serial, payload: [0])
                    try? keys.invalidate(serial)
                }
            } catch {
                if error.isRefusal { refused = error }
                throw error
            }
        }
    }

    /// The parts of one of this tool's key names (not a generation key):
    /// `docker-credential-ecr:1:<scope>:<kind>:<identity>:<registry>`.
    static func parseName(_ name: Substring) -> (scope: Substring, kind: CredentialRecord.Kind, identity: String, registry: String)? {
        let prefix = "\(keyringName):1:"
        guard name.hasPrefix(prefix), !name.hasPrefix(generationPrefix) else { return nil }
        let parts = name.dropFirst(prefix.count).split(separator: ":", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, let kind = CredentialRecord.Kind(rawValue: String(parts[1])) else { return nil }
        return (parts[0], kind, parts[2] == "-" ? "" : String(parts[2]), String(parts[3]))
    }

    /// This tool's keyring; created (restricted to the user) when `create` and absent. Nil when
    /// absent, or when the kernel refuses key calls. A keyring of this name that another user
    /// owns is not used; one with wider permissions is narrowed, or not used when it cannot be.
    private func keyring(create: Bool) throws -> Int32? {
        if let ourKeyring { return ourKeyring }
        if refused != nil { return nil }
        let found = try guarded { () throws(KernelKeyFailure) in
            try keys.search(keyring: parentKeyring, type: "keyring", description: Self.keyringName)
        }
        if let found = found ?? nil {
            guard let described = (try? keys.describe(found)).flatMap(Described.init), described.owner == user,
                  let permissions = described.permissions else {
                refused = KernelKeyFailure("keyring of another user", code: EACCES)
                diagnostics.debug("the kernel keyring \(Self.keyringName) is not the user's own; not using it")
                return nil
            }
            if permissions & ~Self.permissions != 0 {
                do {
                    try keys.setPermissions(found, Self.permissions)
                } catch {
                    refused = KernelKeyFailure("keyring with wider permissions", code: EACCES)
                    diagnostics.debug("the kernel keyring \(Self.keyringName) is open to others and cannot be narrowed: \(error)")
                    return nil
                }
            }
            ourKeyring = found
            return found
        }
        guard create, refused == nil else { return nil }
        // add_key of a keyring replaces one of the same name: only when the search found none.
        let created = try guarded { () throws(KernelKeyFailure) in
            let serial = try keys.add(type: "keyring", description: Self.keyringName, payload: [], keyring: parentKeyring)
            try keys.setPermissions(serial, Self.permissions)
            return serial
        }
        ourKeyring = created
        return created
    }

    /// Runs a call; a refusal turns the tier off for this process and gives nil; other failures throw.
    private func guarded<T>(_ call: () throws(KernelKeyFailure) -> T) throws(KernelKeyFailure) -> T? {
        if refused != nil { return nil }
        do {
            return try call()
        } catch {
            guard error.isRefusal else { throw error }
            diagnostics.debug("the kernel keyring is not usable here: \(error)")
            refused = error
            return nil
        }
    }
}
