// Credential records in the Linux kernel's user keyring: the fast tier in front of the Secret Service.
import CKernelKeyring
import Crypto

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
///   empty; a removal that cannot reach it says so on stderr.
///
/// A description is `docker-credential-ecr:1:<scope>:<kind>:<identity>:<registry>` (identity `-`
/// for logins); the payload is a version line, then kind, registry, identity, server URL, user
/// name, issued-at and expires-at lines, then the secret. Besides records it keeps, per registry,
/// whether the Secret Service holds no login (`LoginState.none`), so that a hit never asks it,
/// and per registry a generation key that every `store` and removal changes, so that a copy made
/// from the Secret Service while one of them ran can be taken back (`generation(registry:)`).
/// Not thread-safe: one instance per process, used from one thread.
public final class KernelKeyringStore: CredentialStore, @unchecked Sendable {
    /// What the tier knows about a registry's login.
    public enum LoginState: Sendable, Equatable {
        /// The login the durable store holds.
        case stored(CredentialRecord)
        /// The durable store holds no login for the registry.
        case none
        /// Not known here: ask the durable store.
        case unknown
    }

    /// The user's key quota, from `/proc/key-users`.
    public struct Quota: Sendable, Equatable {
        /// Keys kept, and the most allowed.
        public var keys: Int, maximumKeys: Int
        /// Bytes kept (descriptions and payloads), and the most allowed.
        public var bytes: Int, maximumBytes: Int

        /// Creates a quota reading.
        public init(keys: Int, maximumKeys: Int, bytes: Int, maximumBytes: Int) {
            (self.keys, self.maximumKeys, self.bytes, self.maximumBytes) = (keys, maximumKeys, bytes, maximumBytes)
        }
    }

    /// "kernel keyring".
    public let name = "kernel keyring"
    /// The digest that separates the entries copied from one Secret Service from another's.
    public let scope: String
    /// Longest life of a login or "no login" entry, in seconds. Default 3600.
    public let loginLifetime: UInt32
    private let keys: any KernelKeyCalls
    private let clock: any WallClock
    private let diagnostics: Diagnostics
    private let parentKeyring: Int32
    private let quota: @Sendable () -> Quota?
    private let user = "\(getuid())"
    private var ourKeyring: Int32?
    private var refused: KernelKeyFailure?
    private var warnedUnremovable = false

    /// The keyring that holds this tool's keys, inside the user keyring.
    public static let keyringName = "docker-credential-ecr"
    /// The largest payload kept (ECR tokens are about 2,500 bytes; a `user` key could hold 32,767).
    static let payloadLimit = 8192
    private static let payloadHeader = "docker-credential-ecr 1"
    private static let generationPrefix = "\(keyringName):1:generation:"
    /// The owning user's rights only: view, read, write, search, link, set-attribute.
    static let permissions = UInt32(CKERNELKEYRING_USR_ALL)

    /// Creates the tier.
    /// - Parameters:
    ///   - scope: separates Secret Services; see `scope(environment:)`.
    ///   - keys: the kernel, or a substitute in tests.
    ///   - parentKeyring: where this tool's keyring lives; the user keyring by default.
    ///   - quota: reads the user's key quota; `/proc/key-users` by default.
    public init(scope: String, keys: any KernelKeyCalls = SystemKernelKeys(), clock: any WallClock = SystemClock(),
                diagnostics: Diagnostics = Diagnostics(), parentKeyring: Int32 = SystemKernelKeys.userKeyring,
                loginLifetime: UInt32 = 3600, quota: @escaping @Sendable () -> Quota? = KernelKeyringStore.quota) {
        self.scope = scope
        self.quota = quota
        self.keys = keys
        self.clock = clock
        self.diagnostics = diagnostics
        self.parentKeyring = parentKeyring
        self.loginLifetime = loginLifetime
    }

    /// The scope of the session bus the environment names (see `busIdentity(_:)`).
    public static func scope(environment: Environment) -> String {
        let digest = SHA256.hash(data: Array("docker-credential-ecr/kernel/2\0\(busIdentity(environment))".utf8))
        return Hex.encode(digest.prefix(8))
    }

    /// The session bus as one name, however it is spelled: the first address of
    /// `DBUS_SESSION_BUS_ADDRESS` without its `guid`, a socket path resolved (`realpath`), else
    /// `$XDG_RUNTIME_DIR/bus` resolved the same way.
    public static func busIdentity(_ environment: Environment) -> String {
        func socket(_ path: String) -> String {
            guard let resolved = realpath(path, nil) else { return "unix:path=\(path)" }
            defer { free(resolved) }
            return "unix:path=\(String(cString: resolved))"
        }
        if let address = environment["DBUS_SESSION_BUS_ADDRESS"] {
            let first = address.split(separator: ";").first.map(String.init) ?? address
            guard let colon = first.firstIndex(of: ":") else { return first }
            let transport = first[..<colon]
            let pairs = first[first.index(after: colon)...].split(separator: ",").map(String.init).filter { !$0.hasPrefix("guid=") }
            if transport == "unix", let path = pairs.first(where: { $0.hasPrefix("path=") }) {
                return socket(unescape(String(path.dropFirst(5))))
            }
            return "\(transport):\(pairs.sorted().joined(separator: ","))"
        }
        if let runtime = environment["XDG_RUNTIME_DIR"] { return socket(runtime + "/bus") }
        return ""
    }

    /// A D-Bus address value with its `%XX` escapes decoded.
    private static func unescape(_ value: String) -> String {
        var bytes: [UInt8] = []
        var input = Array(value.utf8)[...]
        while let byte = input.popFirst() {
            if byte == UInt8(ascii: "%"), input.count >= 2, let decoded = UInt8(String(decoding: input.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(decoded)
                input = input.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether a call was refused (so the tier is off for this process), and why.
    public var refusal: KernelKeyFailure? { refused }

    /// The user's key quota, when `/proc/key-users` can be read.
    public static func quota() -> Quota? {
        guard let bytes = try? PrivateFile.read("/proc/key-users", policy: .external), bytes.count < 1 << 20 else { return nil }
        let user = "\(getuid())"
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            // "  1000:     5 5/5 5/200 312/20000": uid, usage, nkeys/nikeys, keys/maxkeys, bytes/maxbytes
            let fields = line.split(separator: " ")
            guard fields.count == 5, fields[0] == "\(user):" else { continue }
            let counted = fields[3].split(separator: "/").compactMap { Int($0) }
            let sized = fields[4].split(separator: "/").compactMap { Int($0) }
            guard counted.count == 2, sized.count == 2 else { return nil }
            return Quota(keys: counted[0], maximumKeys: counted[1], bytes: sized[0], maximumBytes: sized[1])
        }
        return nil
    }

    // MARK: CredentialStore

    public func record(kind: CredentialRecord.Kind, registry: String, identity: String) throws -> CredentialRecord? {
        guard let entry = lookup(kind: kind, registry: registry, identity: identity), case .record(let record) = entry else { return nil }
        return record
    }

    /// What the tier knows about `registry`'s login.
    public func loginState(registry: String) -> LoginState {
        switch lookup(kind: .login, registry: registry, identity: "") {
        case .record(let record)?: .stored(record)
        case .noLogin?: .none
        case nil: .unknown
        }
    }

    /// Saves a record; a token's key expires with it, a login's after `loginLifetime` at most.
    /// A record that cannot be kept here (expired, a line break outside the secret, too long, no
    /// room) removes the entry it would have replaced, so an older login, or the note that there
    /// was none, never answers in its place.
    /// - Throws: `KernelKeyFailure` when the kernel refuses it (quota, size, refusal).
    public func save(_ record: CredentialRecord) throws {
        let now = clock.now().timeIntervalSince1970
        var lifetime = record.kind == .login ? Double(loginLifetime) : EpochSeconds.maximumDuration
        if let expiresAt = record.expiresAt { lifetime = min(lifetime, expiresAt - now) }
        guard lifetime >= 1, let payload = Self.payload(record) else {
            diagnostics.debug("\(record.registry): not kept in the kernel keyring (expired, a line break outside the secret, or too long)")
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

    /// Notes that the durable store holds no login for `registry`, for `loginLifetime` seconds.
    public func saveNoLogin(registry: String) throws {
        let payload = Array("\(Self.payloadHeader)\nnone\n\(registry)\n".utf8)
        try put(description: description(kind: .login, registry: registry, identity: ""), payload: payload,
                lifetime: Double(loginLifetime))
    }

    /// Removes the entry in every scope, and changes the registry's generation first.
    public func remove(kind: CredentialRecord.Kind, registry: String, identity: String) throws {
        try? bumpGeneration(registry: registry)
        try removeEntries(allScopes: true, warnWhenRefused: true) { $0.kind == kind && $0.registry == registry && $0.identity == identity }
    }

    /// Removes every entry of `registry` in every scope (tokens of every identity, the login and
    /// the "no login" note), after changing the generation; returns how many tokens and logins
    /// this scope had.
    @discardableResult
    public func removeAll(registry: String) throws -> Int {
        try? bumpGeneration(registry: registry)
        return try removeEntries(allScopes: true, warnWhenRefused: true) { $0.registry == registry }
    }

    /// Removes the tokens of `registry` this scope keeps for identities other than `identity`.
    @discardableResult
    public func removeTokens(registry: String, except identity: String) throws -> Int {
        try removeEntries(allScopes: false) { $0.registry == registry && $0.kind == .token && $0.identity != identity }
    }

    /// Removes every entry of these kinds in every scope, of `registries` or of all (`logout`);
    /// a login's removal also takes the notes that there was none.
    public func removeEverything(of kinds: Set<CredentialRecord.Kind>, registries: Set<String>? = nil) throws {
        let picked = { (entry: Listed) in kinds.contains(entry.kind) && (registries?.contains(entry.registry) ?? true) }
        for registry in Set(try entries(allScopes: true).filter(picked).map(\.registry)).union(registries ?? []) {
            try? bumpGeneration(registry: registry)
        }
        try removeEntries(allScopes: true, warnWhenRefused: true, picked)
    }

    /// Takes back this scope's copy of an entry, without changing the generation (a copy that
    /// another process's `store` or removal overtook).
    public func withdraw(kind: CredentialRecord.Kind, registry: String, identity: String) {
        _ = try? removeEntries(allScopes: false) { $0.kind == kind && $0.registry == registry && $0.identity == identity }
    }

    public func allRecords() throws -> [CredentialRecord] {
        try entries(allScopes: false).compactMap { entry in
            guard entry.isPrivate else {
                discard(entry.serial, registry: entry.registry)
                return nil
            }
            guard case .record(let record)? = read(entry.serial, kind: entry.kind, registry: entry.registry, identity: entry.identity) else {
                return nil
            }
            return record
        }
    }

    // MARK: generation

    /// The registry's current generation (nil when there is none): it changes with every `store`
    /// and removal of the registry, in any process. A copy from the Secret Service is kept only
    /// when the generation read before the Secret Service was asked is the same afterwards.
    public func generation(registry: String) -> [UInt8]? {
        guard let keyring = try? keyring(create: false),
              let serial = (try? guarded({ () throws(KernelKeyFailure) in
                  try keys.search(keyring: keyring, type: "user", description: Self.generationPrefix + registry)
              })) ?? nil,
              let described = (try? keys.describe(serial)).flatMap(Described.init), described.owner == user, isPrivate(described)
        else { return nil }
        return try? keys.read(serial, limit: 64)
    }

    /// The generation to compare after a copy of `registry`; this tool's keyring is made first if
    /// needed, so that a `store` or removal meanwhile has a keyring to record its change in.
    public func generationBeforeCopy(registry: String) -> [UInt8]? {
        _ = try? keyring(create: true)
        return generation(registry: registry)
    }

    /// Starts a new generation of `registry` (16 random bytes). The key lasts `generationLifetime`,
    /// far longer than a copy takes (its Secret Service calls time out after a second each).
    /// Without this tool's keyring no copy can be under way, and nothing is created.
    public func bumpGeneration(registry: String) throws {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        try put(description: Self.generationPrefix + registry, payload: bytes, lifetime: Self.generationLifetime, create: false)
    }

    /// Seconds a generation key lives: 300.
    static let generationLifetime = 300.0

    // MARK: entries

    /// A key's content.
    enum Entry: Equatable {
        case record(CredentialRecord)
        case noLogin(registry: String)
    }

    /// A key of this tool, from its description.
    private struct Listed {
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
            return read(serial, kind: kind, registry: registry, identity: identity)
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

    /// The entry in key `serial`, when it is what its description says; nil otherwise.
    private func read(_ serial: Int32, kind: CredentialRecord.Kind, registry: String, identity: String) -> Entry? {
        let bytes: [UInt8]
        do {
            guard let read = try guarded({ () throws(KernelKeyFailure) in try keys.read(serial, limit: Self.payloadLimit) }) else { return nil }
            bytes = read
        } catch {
            diagnostics.debug("\(registry): kernel keyring read failed: \(error)")
            return nil
        }
        guard let entry = Self.entry(from: bytes), Self.matches(entry, kind: kind, registry: registry, identity: identity) else {
            diagnostics.debug("\(registry): ignoring a kernel keyring entry that is not what its name says")
            return nil
        }
        return entry
    }

    private static func matches(_ entry: Entry, kind: CredentialRecord.Kind, registry: String, identity: String) -> Bool {
        switch entry {
        case .noLogin(let noted): return kind == .login && identity.isEmpty && noted == registry
        case .record(let record):
            return record.kind == kind && record.registry == registry && record.identity == identity && record.isPlausible
        }
    }

    /// The user's keys of this tool, in this scope or in every scope.
    private func entries(allScopes: Bool) throws -> [Listed] {
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

    /// Removes the keys `matching` picks; counts this scope's records, not "no login" notes. Where
    /// the kernel refuses the calls, says once that copies kept by other processes stay.
    @discardableResult
    private func removeEntries(allScopes: Bool, warnWhenRefused: Bool = false, _ matching: (Listed) -> Bool) throws -> Int {
        let listed = try entries(allScopes: allScopes)
        if warnWhenRefused, let refused, !warnedUnremovable {
            warnedUnremovable = true
            diagnostics.warning("the kernel keyring cannot be reached here (\(refused)); copies other processes of this user keep "
                                + "there are not removed: they expire within \(loginLifetime / 60) minutes (logins) or with their token")
        }
        var removed = 0
        let ours = "\(Self.keyringName):1:\(scope):"
        for entry in listed where matching(entry) {
            if entry.description.hasPrefix(ours), case .record? = read(entry.serial, kind: entry.kind, registry: entry.registry, identity: entry.identity) {
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

    /// This tool's entries (every scope, but not the registry being written), registry by
    /// registry: the registries whose tokens expire soonest first, each registry's token and
    /// login note together (a token is a fast hit only with its note). None when
    /// `/proc/key-users` shows that dropping all of them would not make room.
    private func evictionOrder(except description: String, needed: Int) throws -> [(serials: [Int32], expiresAt: Double)] {
        let writing = Self.parseName(Substring(description)).map { "\($0.scope):\($0.registry)" }
        var groups: [String: (expiresAt: Double, serials: [Int32])] = [:]
        var ourBytes = 0
        for listed in try entries(allScopes: true) where "\(listed.scope):\(listed.registry)" != writing {
            guard let bytes = try? keys.read(listed.serial, limit: Self.payloadLimit), let entry = Self.entry(from: bytes) else { continue }
            ourBytes += listed.description.utf8.count + 1 + bytes.count
            var expiresAt = 0.0
            if case .record(let record) = entry { expiresAt = record.expiresAt ?? EpochSeconds.range.upperBound }
            let group = "\(listed.scope):\(listed.registry)"
            let serial = listed.serial
            groups[group, default: (0, [])].expiresAt = max(groups[group]?.expiresAt ?? 0, expiresAt)
            groups[group, default: (0, [])].serials.append(serial)
        }
        if let quota = quota(), quota.maximumBytes - (quota.bytes - ourBytes) < needed {
            diagnostics.debug("the kernel keyring quota (\(quota.bytes) of \(quota.maximumBytes) bytes used) has no room for \(needed) bytes, even without this tool's entries")
            return []
        }
        return groups.values.sorted { $0.expiresAt < $1.expiresAt }.map { ($0.serials, $0.expiresAt) }
    }

    /// The parts of one of this tool's key names (not a generation key):
    /// `docker-credential-ecr:1:<scope>:<kind>:<identity>:<registry>`.
    private static func parseName(_ name: Substring) -> (scope: Substring, kind: CredentialRecord.Kind, identity: String, registry: String)? {
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

    // MARK: payload

    /// The payload of a record; nil when a field other than the secret has a line break or it is
    /// longer than `payloadLimit`.
    static func payload(_ record: CredentialRecord) -> [UInt8]? {
        let fields = [record.kind.rawValue, record.registry, record.identity, record.serverURL, record.username]
        guard !fields.contains(where: { $0.contains("\n") || $0.contains("\r") }) else { return nil }
        let lines = [payloadHeader] + fields + [EpochSeconds.text(record.issuedAt), record.expiresAt.map(EpochSeconds.text) ?? "never"]
        let bytes = Array((lines.joined(separator: "\n") + "\n" + record.secret).utf8)
        return bytes.count <= payloadLimit ? bytes : nil
    }

    /// The entry a payload holds; nil for anything else.
    static func entry(from bytes: [UInt8]) -> Entry? {
        var lines: [String] = []
        var start = 0
        for index in bytes.indices where bytes[index] == 0x0A && lines.count < 8 {
            lines.append(String(decoding: bytes[start..<index], as: UTF8.self))
            start = index + 1
        }
        guard lines.first == payloadHeader, lines.count >= 3 else { return nil }
        if lines[1] == "none" { return lines.count == 3 && start == bytes.count ? .noLogin(registry: lines[2]) : nil }
        guard lines.count == 8, let kind = CredentialRecord.Kind(rawValue: lines[1]),
              let issuedAt = EpochSeconds.parse(lines[6]),
              lines[7] == "never" || EpochSeconds.parse(lines[7]) != nil
        else { return nil }
        let secret = String(decoding: bytes[start...], as: UTF8.self)
        return .record(CredentialRecord(kind: kind, registry: lines[2], serverURL: lines[4], identity: lines[3], username: lines[5],
                                        secret: secret, issuedAt: issuedAt, expiresAt: lines[7] == "never" ? nil : EpochSeconds.parse(lines[7])))
    }
}
