// Credential records in the Linux kernel's user keyring: the fast tier in front of the Secret Service.
import CKernelKeyring
import Crypto

#if canImport(Glibc)
import Glibc
#endif

/// Keeps records as `user` keys in a keyring named `docker-credential-ecr` inside the user's
/// kernel keyring (`KEY_SPEC_USER_KEYRING`), so a cache hit costs two system calls and no D-Bus.
///
/// - Where: kernel memory only. Keys are never written to disk, never swapped, never in a backup;
///   they are gone at reboot. The user keyring is shared by every session of the user and
///   outlives logout; each key expires by itself (the kernel's key timeout) when its token does,
///   and logins and "no login" entries after at most `loginLifetime`, so the Secret Service is
///   asked again at least that often.
/// - Who: the keys and the keyring allow everything to their possessor and view, read, write,
///   search, link and set-attribute to the owning user; nothing to the group or others.
/// - Scope: key descriptions carry `scope`, a digest of the session bus and the token directory,
///   so two homes (or two keyring daemons) of one user never see each other's entries.
/// - Quota: a non-root user may keep 20,000 bytes of keys by default
///   (`/proc/sys/kernel/keys/maxbytes`), about six ECR tokens. When it is full, this tool's own
///   entries that expire soonest make room; when that is not enough, the entry is not kept here.
/// - Refusal: where the key calls are refused (a seccomp profile, as Docker's default, or a
///   kernel without keys), every call after the first one is skipped and the tier is simply empty.
///
/// A description is `docker-credential-ecr:1:<scope>:<kind>:<identity>:<registry>` (identity `-`
/// for logins); the payload is a version line, then kind, registry, identity, server URL, user
/// name, issued-at and expires-at lines, then the secret. Besides records it keeps, per registry,
/// whether the Secret Service holds no login (`LoginState.none`), so that a hit never asks it.
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

    /// "kernel keyring".
    public let name = "kernel keyring"
    /// The digest that separates this configuration's entries from other homes' and sessions'.
    public let scope: String
    /// Longest life of a login or "no login" entry, in seconds. Default 3600.
    public let loginLifetime: UInt32
    private let keys: any KernelKeyCalls
    private let clock: any WallClock
    private let diagnostics: Diagnostics
    private let parentKeyring: Int32
    private var ourKeyring: Int32?
    private var refused: KernelKeyFailure?
    private var narrowed = false

    /// The keyring that holds this tool's keys, inside the user keyring.
    public static let keyringName = "docker-credential-ecr"
    /// The largest payload kept (a `user` key holds at most 32,767 bytes).
    static let payloadLimit = 32_767
    private static let payloadHeader = "docker-credential-ecr 1"
    private static let permissions = UInt32(CKERNELKEYRING_POS_ALL | CKERNELKEYRING_USR_ALL)

    /// Creates the tier.
    /// - Parameters:
    ///   - scope: separates configurations; see `scope(environment:tokenDirectory:)`.
    ///   - keys: the kernel, or a substitute in tests.
    ///   - parentKeyring: where this tool's keyring lives; the user keyring by default.
    public init(scope: String, keys: any KernelKeyCalls = SystemKernelKeys(), clock: any WallClock = SystemClock(),
                diagnostics: Diagnostics = Diagnostics(), parentKeyring: Int32 = SystemKernelKeys.userKeyring,
                loginLifetime: UInt32 = 3600) {
        self.scope = scope
        self.keys = keys
        self.clock = clock
        self.diagnostics = diagnostics
        self.parentKeyring = parentKeyring
        self.loginLifetime = loginLifetime
    }

    /// The scope of a configuration: a digest of the session bus the Secret Service is reached on
    /// and of the directory file tokens would be kept in (which follows `HOME` and `XDG_CACHE_HOME`).
    public static func scope(environment: Environment, tokenDirectory: String) -> String {
        let bus = environment["DBUS_SESSION_BUS_ADDRESS"] ?? environment["XDG_RUNTIME_DIR"].map { "\($0)/bus" } ?? ""
        let digest = SHA256.hash(data: Array("docker-credential-ecr/kernel/1\0\(bus)\0\(tokenDirectory)".utf8))
        return Hex.encode(digest.prefix(8))
    }

    /// Whether a call was refused (so the tier is off for this process), and why.
    public var refusal: KernelKeyFailure? { refused }

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
            try remove(kind: record.kind, registry: record.registry, identity: record.identity)
            return
        }
        do {
            try put(description: description(kind: record.kind, registry: record.registry, identity: record.identity),
                    payload: payload, lifetime: lifetime)
        } catch {
            try? remove(kind: record.kind, registry: record.registry, identity: record.identity)
            throw error
        }
    }

    /// Notes that the durable store holds no login for `registry`, for `loginLifetime` seconds.
    public func saveNoLogin(registry: String) throws {
        let payload = Array("\(Self.payloadHeader)\nnone\n\(registry)\n".utf8)
        try put(description: description(kind: .login, registry: registry, identity: ""), payload: payload,
                lifetime: Double(loginLifetime))
    }

    public func remove(kind: CredentialRecord.Kind, registry: String, identity: String) throws {
        guard let keyring = try keyring(create: false),
              let serial = try guarded({ () throws(KernelKeyFailure) in
                  try keys.search(keyring: keyring, type: "user", description: description(kind: kind, registry: registry, identity: identity))
              }) ?? nil
        else { return }
        try guarded { () throws(KernelKeyFailure) in try keys.invalidate(serial) }
    }

    /// Removes every entry of `registry` in this scope (tokens of every identity, the login and
    /// the "no login" note); returns how many tokens and logins were removed.
    @discardableResult
    public func removeAll(registry: String) throws -> Int {
        try removeEntries { $0.registry == registry }
    }

    /// Removes the tokens of `registry` kept for identities other than `identity`.
    @discardableResult
    public func removeTokens(registry: String, except identity: String) throws -> Int {
        try removeEntries { $0.registry == registry && $0.kind == .token && $0.identity != identity }
    }

    public func allRecords() throws -> [CredentialRecord] {
        try entries().compactMap { entry in
            guard case .record(let record)? = read(entry.serial, kind: entry.kind, registry: entry.registry, identity: entry.identity) else {
                return nil
            }
            return record
        }
    }

    // MARK: entries

    /// A key's content.
    private enum Entry {
        case record(CredentialRecord)
        case noLogin(registry: String)
    }

    /// A key of this scope, from its description.
    private struct Listed {
        var serial: Int32
        var kind: CredentialRecord.Kind
        var identity: String
        var registry: String
    }

    private func description(kind: CredentialRecord.Kind, registry: String, identity: String) -> String {
        "\(Self.keyringName):1:\(scope):\(kind.rawValue):\(identity.isEmpty ? "-" : identity):\(registry)"
    }

    private func lookup(kind: CredentialRecord.Kind, registry: String, identity: String) -> Entry? {
        do {
            guard let keyring = try keyring(create: false),
                  let serial = try guarded({ () throws(KernelKeyFailure) in
                      try keys.search(keyring: keyring, type: "user", description: description(kind: kind, registry: registry, identity: identity))
                  }) ?? nil
            else { return nil }
            return read(serial, kind: kind, registry: registry, identity: identity)
        } catch {
            diagnostics.debug("\(registry): kernel keyring lookup failed: \(error)")
            return nil
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
            return record.kind == kind && record.registry == registry && record.identity == identity && record.hasPlausibleTimes
        }
    }

    /// The keys of this scope in this tool's keyring.
    private func entries() throws -> [Listed] {
        guard let keyring = try keyring(create: false),
              let list = try guarded({ () throws(KernelKeyFailure) in try keys.read(keyring, limit: 4 * 65_536) })
        else { return [] }
        let prefix = "\(Self.keyringName):1:\(scope):"
        var listed: [Listed] = []
        for index in 0..<(list.count / 4) {
            let serial = list.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index * 4, as: Int32.self) }
            // A key that went away meanwhile is simply skipped.
            guard let described = try? keys.describe(serial) else { continue }
            let fields = described.split(separator: ";", maxSplits: 4, omittingEmptySubsequences: false)
            guard fields.count == 5, fields[0] == "user", fields[1] == "\(getuid())", fields[4].hasPrefix(prefix) else { continue }
            let parts = fields[4].dropFirst(prefix.count).split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, let kind = CredentialRecord.Kind(rawValue: String(parts[0])) else { continue }
            listed.append(Listed(serial: serial, kind: kind, identity: parts[1] == "-" ? "" : String(parts[1]), registry: String(parts[2])))
        }
        return listed
    }

    /// Removes the keys of this scope that `matching` picks; counts records, not "no login" notes.
    private func removeEntries(_ matching: (Listed) -> Bool) throws -> Int {
        var removed = 0
        for entry in try entries() where matching(entry) {
            if case .record? = read(entry.serial, kind: entry.kind, registry: entry.registry, identity: entry.identity) { removed += 1 }
            try guarded { () throws(KernelKeyFailure) in try keys.invalidate(entry.serial) }
        }
        return removed
    }

    // MARK: writing

    /// Adds or replaces a key, restricts it to the user and sets its timeout. When the quota is
    /// used up, this tool's entries that expire soonest are dropped to make room.
    private func put(description: String, payload: [UInt8], lifetime: Double) throws {
        guard let keyring = try keyring(create: true) else { return }
        // A keyring of this name made with wider permissions (by an earlier tool, by hand) is narrowed.
        if !narrowed {
            narrowed = true
            try? keys.setPermissions(keyring, Self.permissions)
        }
        let seconds = UInt32(min(max(lifetime.rounded(.down), 1), Double(UInt32.max)))
        var evictable: [(serial: Int32, expiresAt: Double)]?
        while true {
            do {
                let serial = try keys.add(type: "user", description: description, payload: payload, keyring: keyring)
                try keys.setPermissions(serial, Self.permissions)
                try keys.setTimeout(serial, seconds: seconds)
                return
            } catch where error.isQuotaExceeded {
                if evictable == nil { evictable = try evictionOrder(except: description) }
                guard let next = evictable?.first else { throw error }
                evictable?.removeFirst()
                diagnostics.debug("the kernel keyring quota is full; dropping an entry that expires at \(EpochSeconds.text(next.expiresAt))")
                try? keys.invalidate(next.serial)
            } catch {
                if error.isRefusal { refused = error }
                throw error
            }
        }
    }

    /// This tool's keys (every scope), soonest expiry first; "no login" notes count as expiring now.
    private func evictionOrder(except description: String) throws -> [(serial: Int32, expiresAt: Double)] {
        guard let keyring = try keyring(create: false), let list = try? keys.read(keyring, limit: 4 * 65_536) else { return [] }
        var order: [(serial: Int32, expiresAt: Double)] = []
        for index in 0..<(list.count / 4) {
            let serial = list.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: index * 4, as: Int32.self) }
            guard let described = try? keys.describe(serial), described.hasPrefix("user;"),
                  !described.hasSuffix(";" + description), let bytes = try? keys.read(serial, limit: Self.payloadLimit),
                  let entry = Self.entry(from: bytes)
            else { continue }
            switch entry {
            case .noLogin: order.append((serial, 0))
            case .record(let record): order.append((serial, record.expiresAt ?? EpochSeconds.range.upperBound))
            }
        }
        return order.sorted { $0.expiresAt < $1.expiresAt }
    }

    /// This tool's keyring; created (restricted to the user) when `create` and absent. Nil when
    /// absent, or when the kernel refuses key calls.
    private func keyring(create: Bool) throws -> Int32? {
        if let ourKeyring { return ourKeyring }
        if refused != nil { return nil }
        let found = try guarded { () throws(KernelKeyFailure) in
            try keys.search(keyring: parentKeyring, type: "keyring", description: Self.keyringName)
        }
        if let found = found ?? nil {
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

    /// The payload of a record; nil when a field other than the secret has a line break or it
    /// does not fit in a key.
    static func payload(_ record: CredentialRecord) -> [UInt8]? {
        let fields = [record.kind.rawValue, record.registry, record.identity, record.serverURL, record.username]
        guard !fields.contains(where: { $0.contains("\n") || $0.contains("\r") }) else { return nil }
        let lines = [payloadHeader] + fields + [EpochSeconds.text(record.issuedAt), record.expiresAt.map(EpochSeconds.text) ?? "never"]
        let bytes = Array((lines.joined(separator: "\n") + "\n" + record.secret).utf8)
        return bytes.count <= payloadLimit ? bytes : nil
    }

    /// The entry a payload holds; nil for anything else.
    private static func entry(from bytes: [UInt8]) -> Entry? {
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
