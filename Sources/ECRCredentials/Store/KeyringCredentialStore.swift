// Credential records in the Secret Service keyring (GNOME Keyring, KeePassXC, KWallet...).
import CLibsecret

#if canImport(Glibc)
import Glibc
#endif

/// Keeps records as items of the default keyring collection, through libsecret.
///
/// Items use the schema `io.github.docker_credential_ecr.Credential`; the secret is the
/// password alone, and the attributes `registry`, `kind` (`token` or `login`), `identity`,
/// `server_url`, `username`, `issued_at`, `expires_at` (seconds since 1970, or `never`) and
/// `version` describe it, so `secret-tool search registry HOST` finds them.
///
/// Every D-Bus call has a deadline (`timeoutMilliseconds`, 1 s by default, instead of GDBus's
/// 25 s): a Secret Service that does not answer in time is `Unavailable`, and from then on the
/// store fails at once rather than waiting again.
///
/// It never prompts and never starts anything: `open` refuses a locked default collection, a
/// keyring without a `default` alias, KeePassXC (which asks before every write), a session bus
/// without a Secret Service on it (rather than letting D-Bus activation start a keyring daemon),
/// and a process without a session bus (without even loading libsecret). Any operation the
/// service answers with a prompt fails (`NeedsConfirmation`): the shim's service object dismisses
/// prompts instead of running them, and never calls Unlock.
/// Not thread-safe: one instance per process, used from one thread.
package final class KeyringCredentialStore: CredentialStore, @unchecked Sendable {
    /// Why the keyring cannot be used now; the helper then falls back (or, if the keyring was
    /// required, caches nothing).
    package struct Unavailable: Error, Sendable, CustomStringConvertible {
        /// What is missing or wrong.
        package var reason: String
        /// Whether a Secret Service is there and may hold this tool's items, out of reach for now
        /// (locked, not answering), so that removing them cannot be done.
        package var mayHoldEntries = false
        /// The registries of this tool's items in the Secret Service, as their attributes tell
        /// (searchable without unlocking anything); nil when that could not be asked.
        package var heldRegistries: Set<String>?
        /// Whether a Secret Service is there but cannot be used now: it cannot be used without a
        /// prompt (a locked collection, a confirmation for each item, no `default` alias), does not
        /// answer in time, or is `broken`. Auto mode says so, in one line, when it keeps a login in
        /// the private file instead.
        package var refused = false
        /// Whether the program owning `org.freedesktop.secrets` answers with replies the Secret
        /// Service API does not allow: nothing of this tool's can be read from it, so it holds
        /// nothing that `erase` must reach (and `erase` says so in a warning).
        package var broken = false
        /// The setting that asks for the keyring alone (keyring mode), named in the description
        /// so that the message says what to change; nil in auto mode.
        package var requiredBy: String?
        /// Whether the Secret Service did not answer within the deadline.
        package var notAnswering = false

        /// Creates the error.
        package init(reason: String, mayHoldEntries: Bool = false) {
            self.reason = reason
            self.mayHoldEntries = mayHoldEntries
        }

        /// A Secret Service that did not answer within the deadline: it may hold anything.
        package init(notAnswering reason: String) {
            self.reason = reason
            self.mayHoldEntries = true
            self.refused = true
            self.notAnswering = true
        }

        /// A program on `org.freedesktop.secrets` whose replies are not the Secret Service's.
        package init(broken reason: String) {
            self.reason = reason
            self.broken = true
            self.refused = true
        }

        /// An error of a Secret Service that answers but refuses; `heldRegistries` sets `mayHoldEntries`.
        package init(refusal reason: String, heldRegistries: Set<String>?) {
            self.reason = reason
            self.heldRegistries = heldRegistries
            self.mayHoldEntries = heldRegistries.map { !$0.isEmpty } ?? true
            self.refused = true
        }

        /// Whether this tool's items for `registry` may be kept where they cannot be removed now:
        /// false when the attributes show none (docker's "nothing to erase").
        package func mayHold(registry: String) -> Bool {
            guard mayHoldEntries else { return false }
            return heldRegistries.map { $0.contains(registry) } ?? true
        }

        /// What has to change before what the keyring may hold can be erased, for "erase again
        /// once ...": an answer for a service that did not answer, an unlock otherwise.
        package var retryCondition: String {
            notAnswering ? "the Secret Service answers again" : "the keyring is unlocked and answering"
        }

        /// For example "the keyring is not available: the default collection is locked".
        package var description: String {
            "the keyring is not available: \(reason)" + (requiredBy.map { " (\($0))" } ?? "")
        }
    }

    /// What keyring mode says in each failure: the setting that asks for the keyring alone.
    package static let keyringModeSetting = "the cache backend is `keyring`, set by DOCKER_CREDENTIAL_ECR_CACHE or by "
        + "`backend` under [cache] in the config file: set it to `auto` to keep tokens and logins in the private files "
        + "while the keyring cannot be used"

    /// A save that left nothing of the new record in the keyring (refused, failed, or taken back
    /// after a failed read-back): the caller may keep the record elsewhere.
    package protocol NotKept: Error, CustomStringConvertible {}

    /// A save that failed, leaving nothing of the new record in the keyring: the old one is kept.
    /// With `mayAppearLater` the Secret Service did not answer the write in time, and the item
    /// could still appear there: it holds the same login, so it never outranks the copy kept
    /// elsewhere (the newest login wins), and the next write to the keyring or `erase` removes it.
    package struct NotStored: NotKept, Sendable {
        /// What was being stored, such as "registry.example's login".
        package var what: String
        /// Why, as the keyring said.
        package var cause: String
        /// Whether the write may still land after its deadline.
        package var mayAppearLater = false
        /// The setting that asks for the keyring alone (keyring mode), or nil.
        package var requiredBy: String?

        /// Creates the error.
        package init(what: String, cause: String, mayAppearLater: Bool, requiredBy: String?) {
            self.what = what
            self.cause = cause
            self.mayAppearLater = mayAppearLater
            self.requiredBy = requiredBy
        }

        /// For example "keyring store failed: ... (nothing of registry.example's login was kept there)".
        package var description: String {
            cause + (mayAppearLater ? " (an item with the same login may still appear there; the next store or erase that reaches the keyring removes it)"
                                    : " (nothing of \(what) was kept there)") + (requiredBy.map { "; \($0)" } ?? "")
        }
    }

    /// The Secret Service answered an operation with a prompt (a confirmation or an unlock),
    /// which this tool never opens: the operation did not happen.
    package struct NeedsConfirmation: NotKept, Sendable {
        /// What was being done.
        package var operation: String
        /// The setting that asks for the keyring alone (keyring mode), or nil.
        package var requiredBy: String?
        /// For example "the keyring asks for a confirmation to store ... ".
        package var description: String {
            "the keyring asks for a confirmation (a prompt) to \(operation), and this tool never opens one"
                + (requiredBy.map { "; \($0)" } ?? "")
        }
    }

    /// A keyring operation that failed after the keyring was opened.
    package struct CallFailed: Error, Sendable, CustomStringConvertible {
        /// What was being done.
        package var operation: String
        /// libsecret's message.
        package var message: String
        /// The GError's domain (such as `g-dbus-error-quark`) and code, when libsecret gave one.
        package var gError: (domain: String, code: Int32)? = nil
        /// For example "keyring search failed: ...".
        package var description: String { "keyring \(operation) failed: \(message)" }
    }

    /// "keyring".
    package let name = "keyring"
    private let service: UnsafeMutableRawPointer
    private let collection: UnsafeMutableRawPointer
    /// The deadline of each D-Bus call.
    package let timeoutMilliseconds: Int32
    /// The setting that asks for the keyring alone, named by every failure of `save`; set in
    /// keyring mode, nil in auto mode (where a failed save falls back to the private file).
    package var requiredBy: String?

    private init(service: UnsafeMutableRawPointer, collection: UnsafeMutableRawPointer, timeoutMilliseconds: Int32) {
        self.service = service
        self.collection = collection
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    deinit {
        clibsecret_object_unref(collection)
        clibsecret_object_unref(service)
    }

    /// Whether the environment names a session bus at all: `DBUS_SESSION_BUS_ADDRESS`, or the
    /// `$XDG_RUNTIME_DIR/bus` socket GLib falls back to. Without one, libsecret is not loaded.
    package static func sessionBusConfigured(_ environment: Environment) -> Bool {
        if environment["DBUS_SESSION_BUS_ADDRESS"] != nil { return true }
        guard let runtime = environment["XDG_RUNTIME_DIR"] else { return false }
        var info = stat()
        return stat(runtime + "/bus", &info) == 0 && (info.st_mode & S_IFMT) == S_IFSOCK
    }

    /// Opens the keyring if it can be used right now without a prompt.
    ///
    /// Refused (`Unavailable` with `refused`): a locked default collection (KWallet's closed
    /// wallet, gnome-keyring's locked login keyring); no collection named by the `default` alias
    /// (another could be the wrong one to write into, and creating one takes a prompt); and
    /// KeePassXC, whose Secret Service answers every new item and every deletion with a prompt.
    /// The error tells, from item attributes alone, which registries this tool has items for there.
    /// - Parameter timeoutMilliseconds: the deadline of every D-Bus call, then and later.
    /// - Throws: `Unavailable`, within about `timeoutMilliseconds` per call, naming the reason.
    package static func open(environment: Environment, timeoutMilliseconds: Int32 = 1000) throws -> KeyringCredentialStore {
        guard sessionBusConfigured(environment) else {
            throw Unavailable(reason: "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
        }
        var loadError = [CChar](repeating: 0, count: 256)
        guard clibsecret_load(&loadError, loadError.count) == 0 else {
            throw Unavailable(reason: loadError.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        }
        var error: UnsafeMutablePointer<CChar>?
        switch clibsecret_service_running(timeoutMilliseconds, &error) {
        case 1: break
        case 0: throw Unavailable(reason: "no Secret Service is running on the session bus (org.freedesktop.secrets)")
        default: throw Unavailable(reason: take(error) ?? "the session bus cannot be reached")
        }
        guard let service = clibsecret_service_connect(timeoutMilliseconds, &error) else {
            throw openFailure(take(error) ?? "cannot connect to the Secret Service", timeoutMilliseconds: timeoutMilliseconds)
        }
        var state: Int32 = -1
        let collection = clibsecret_default_collection(service, timeoutMilliseconds, &state, &error)
        let held = { heldRegistries(service: service, timeoutMilliseconds: timeoutMilliseconds) }
        defer { if state != 0 { clibsecret_object_unref(service) } }
        switch state {
        case 0:
            guard let collection else {
                clibsecret_object_unref(service)
                throw Unavailable(reason: "the default collection cannot be read", mayHoldEntries: true)
            }
            let store = KeyringCredentialStore(service: service, collection: collection, timeoutMilliseconds: timeoutMilliseconds)
            if let program = take(clibsecret_service_program(timeoutMilliseconds)), program == "keepassxc" {
                let registries = held()
                var reason = store.keePassXCReason()
                if registries.map({ !$0.isEmpty }) ?? false {
                    // Kept there by an earlier version, through a prompt: only KeePassXC can remove them now.
                    reason += "; the entries it holds for this tool (\u{201C}Registry login for \u{2026}\u{201D}, "
                        + "\u{201C}ECR token for \u{2026}\u{201D}) can be deleted in KeePassXC"
                }
                throw Unavailable(refusal: reason, heldRegistries: registries)
            }
            return store
        case 1:
            clibsecret_object_unref(collection)
            throw Unavailable(refusal: "the default collection is locked", heldRegistries: held())
        case 2:
            throw Unavailable(refusal: noDefaultAlias, heldRegistries: held())
        default:
            throw openFailure(take(error) ?? "the default collection cannot be read", timeoutMilliseconds: timeoutMilliseconds)
        }
    }

    /// Why a Secret Service that is running could not be opened: it did not answer in time (it may
    /// hold anything), it answered with replies of the wrong type (it is no Secret Service, and
    /// holds nothing this tool can read), or it failed otherwise (it may hold anything).
    private static func openFailure(_ message: String, timeoutMilliseconds: Int32) -> Unavailable {
        if clibsecret_timed_out() != 0 { return Unavailable(notAnswering: message) }
        if clibsecret_malformed_replies() != 0 {
            let program = take(clibsecret_service_program(timeoutMilliseconds)).map { " (\($0))" } ?? ""
            return Unavailable(broken: "the program that owns org.freedesktop.secrets on the session bus\(program) is not a "
                                   + "working Secret Service: \(message)")
        }
        return Unavailable(reason: message, mayHoldEntries: true)
    }

    /// Why a keyring without a `default` alias is not used.
    package static let noDefaultAlias = "no collection is set as the default (the Secret Service's `default` alias; "
        + "set one as the default, for example in Seahorse: a keyring's menu, Set as Default)"

    /// Why KeePassXC is not used: its Secret Service (2.7) answers every CreateItem and every
    /// Delete with a prompt. With per-item confirmation on (an item of this tool reads as locked
    /// while its database is open), that setting is named too.
    private func keePassXCReason() -> String {
        let confirming = ((try? search([:], loadSecrets: false)) ?? []).contains { $0.locked }
        let writes = "asks for a confirmation (a prompt) before it adds or deletes an entry, and this tool never opens one"
        guard confirming else { return "KeePassXC's Secret Service " + writes }
        return "KeePassXC asks for a confirmation (a prompt) before another program reads an entry (Secret Service "
            + "Integration: \u{201C}Confirm when passwords are retrieved by clients\u{201D}), and " + writes
    }

    /// The registries this tool has items for, from their attributes (no secret is read and
    /// nothing is unlocked); nil when the search fails.
    private static func heldRegistries(service: UnsafeMutableRawPointer, timeoutMilliseconds: Int32) -> Set<String>? {
        let query = Attributes([:])
        var status: Int32 = 0
        var error: UnsafeMutablePointer<CChar>?
        let list = clibsecret_search(service, query.table, 0, timeoutMilliseconds, &status, &error)
        defer { clibsecret_list_free(list) }
        _ = take(error)
        guard status == 0 else { return nil }
        return Set((0..<clibsecret_list_count(list)).compactMap { index in
            clibsecret_list_item(list, index).flatMap { attributes(of: $0)["registry"] }
        })
    }

    /// Moves a C error string into Swift and frees it.
    private static func take(_ error: UnsafeMutablePointer<CChar>?) -> String? {
        guard let error else { return nil }
        defer { free(error) }
        return String(cString: error)
    }

    // MARK: CredentialStore

    package func record(kind: CredentialRecord.Kind, registry: String, identity: String) throws -> CredentialRecord? {
        // Normally one item; after a save whose clean-up failed, the newest is the current one.
        try search(["registry": registry, "kind": kind.rawValue, "identity": identity], loadSecrets: true)
            .compactMap(Self.record(from:)).max { $0.issuedAt < $1.issuedAt }
    }

    /// Stores the new item first and only then deletes the ones it replaces, so a failure (or a
    /// crash, or a keyring that stops answering) never loses the old value.
    ///
    /// Nothing is kept where it could not be read back without a prompt: an item of the same
    /// registry, kind and identity that reads as locked in an unlocked collection means the
    /// service confirms each item (`NeedsConfirmation`, before writing); and the new item is read
    /// back, here and through a second connection (a new client), before the old ones go.
    ///
    /// Every failure leaves the keyring as it was and throws a `NotKept` error: one after the new
    /// item was created takes it back first. Where it cannot be taken back (the service stopped
    /// answering), the save counts as done, since the item is there. A write the service did not
    /// answer in time may still land later (`NotStored.mayAppearLater`). Removing the older items
    /// once the new one reads back is best effort: the newest item is the one read.
    package func save(_ record: CredentialRecord) throws {
        let what = "\(record.registry)'s \(record.kind.rawValue)"
        let values = [
            "registry": record.registry, "kind": record.kind.rawValue, "identity": record.identity,
            "server_url": record.serverURL, "username": record.username, "issued_at": EpochSeconds.text(record.issuedAt),
            "expires_at": record.expiresAt.map(EpochSeconds.text) ?? "never", "version": String(record.version),
        ]
        // libsecret takes the secret and the attributes as C strings: a NUL would cut one short,
        // and the item would read back as another record (or not be found to replace the old one).
        if let field = record.secret.utf8.contains(0) ? "secret" : values.keys.sorted().first(where: { values[$0]!.utf8.contains(0) }) {
            let name = ["server_url": "server URL", "username": "user name"][field] ?? field
            throw NotStored(what: what, cause: "the keyring keeps a secret and its attributes as text that ends at a NUL character, and this \(name) has one",
                            mayAppearLater: false, requiredBy: requiredBy)
        }
        let key = ["registry": record.registry, "kind": record.kind.rawValue, "identity": record.identity]
        do {
            try checkResponsive()
            if try search(key, loadSecrets: false).contains(where: { $0.locked }) {
                throw NeedsConfirmation(operation: "read \(what) back", requiredBy: requiredBy)
            }
        } catch let error as NeedsConfirmation {
            throw error
        } catch {
            throw NotStored(what: what, cause: "\(error)", mayAppearLater: false, requiredBy: requiredBy)
        }
        let attributes = Attributes(values)
        let label = record.kind == .token ? "ECR token for \(record.registry)" : "Registry login for \(record.serverURL)"
        var error: UnsafeMutablePointer<CChar>?
        let refusedBefore = clibsecret_prompts_refused()
        guard clibsecret_store(collection, attributes.table, label, record.secret, timeoutMilliseconds, &error) == 0 else {
            let cause = failure("store", error, refusedBefore: refusedBefore, operation: "store \(what)")
            if var refusal = cause as? NeedsConfirmation {
                refusal.requiredBy = requiredBy
                throw refusal
            }
            throw NotStored(what: what, cause: "\(cause)", mayAppearLater: clibsecret_timed_out() != 0, requiredBy: requiredBy)
        }
        do {
            // Read back here, and seen from a new D-Bus client (the next process is one): a service that
            // confirms each item per client trusts the one that wrote it, and no other.
            let stored = try search(values, loadSecrets: true)
            let elsewhere = clibsecret_readable_elsewhere(attributes.table, timeoutMilliseconds, &error)
            guard elsewhere >= 0 else { throw failure("read-back", error) }
            guard elsewhere == 1, stored.contains(where: { !$0.locked }) else {
                throw NeedsConfirmation(operation: "read \(what) back", requiredBy: requiredBy)
            }
            guard stored.contains(where: { !$0.locked && $0.secret == record.secret }) else {
                throw NotStored(what: what, cause: "the keyring gave back a different secret than the one stored",
                                mayAppearLater: false, requiredBy: requiredBy)
            }
        } catch {
            // Reported as not stored, so not kept either: the new item goes, the old ones stay.
            guard (try? delete(values)) != nil else { return }
            if let refusal = error as? NeedsConfirmation { throw refusal }
            if let notStored = error as? NotStored { throw notStored }
            throw NotStored(what: what, cause: "\(error)", mayAppearLater: false, requiredBy: requiredBy)
        }
        // The Secret Service replaced any item with exactly these attributes; older ones differ.
        _ = try? delete(key, keeping: values)
    }

    package func remove(kind: CredentialRecord.Kind, registry: String, identity: String) throws {
        try delete(["registry": registry, "kind": kind.rawValue, "identity": identity])
    }

    @discardableResult
    package func removeAll(registry: String) throws -> Int {
        try delete(["registry": registry])
    }

    /// The newest record of each registry, kind and identity, as `record` answers: an older item
    /// that a save could not clean up (or one a late write put beside it) is not listed.
    package func allRecords() throws -> [CredentialRecord] {
        var newest: [String: CredentialRecord] = [:]
        for record in try search([:], loadSecrets: true).compactMap(Self.record(from:)) {
            let key = "\(record.kind.rawValue) \(record.identity) \(record.registry)"
            if record.issuedAt > newest[key]?.issuedAt ?? -.infinity { newest[key] = record }
        }
        return Array(newest.values)
    }

    /// Deletes the registry's token items of other identities, without reading any secret.
    @discardableResult
    package func removeTokens(registry: String, except identity: String) throws -> Int {
        try withItems(["registry": registry, "kind": CredentialRecord.Kind.token.rawValue], loadSecrets: false) { list in
            var deleted = 0
            for index in 0..<clibsecret_list_count(list) {
                guard let item = clibsecret_list_item(list, index), Self.attributes(of: item)["identity"] != identity else { continue }
                var error: UnsafeMutablePointer<CChar>?
                let refusedBefore = clibsecret_prompts_refused()
                guard clibsecret_item_delete(item, timeoutMilliseconds, &error) == 0 else {
                    throw failure("delete", error, refusedBefore: refusedBefore, operation: "delete \(registry)'s old tokens")
                }
                deleted += 1
            }
            return deleted
        }
    }

    // MARK: deadlines

    /// Throws `Unavailable` when an earlier call was cancelled at its deadline.
    private func checkResponsive() throws {
        if clibsecret_timed_out() != 0 { throw notAnswering }
    }

    private var notAnswering: Unavailable {
        Unavailable(notAnswering: "the Secret Service did not answer within \(timeoutMilliseconds) ms")
    }

    /// The error of a failed call: `Unavailable` when it was cancelled at its deadline,
    /// `NeedsConfirmation` when the service answered with a prompt (refused since `refusedBefore`).
    private func failure(_ operation: String, _ error: UnsafeMutablePointer<CChar>?, refusedBefore: Int32? = nil,
                         operation described: String? = nil) -> any Error {
        let message = Self.take(error) ?? "unknown error"
        if clibsecret_timed_out() != 0 { return notAnswering }
        if let refusedBefore, clibsecret_prompts_refused() != refusedBefore {
            return NeedsConfirmation(operation: described ?? operation)
        }
        let domain = clibsecret_last_error_domain().map { String(cString: $0) }
        return CallFailed(operation: operation, message: message, gError: domain.map { ($0, clibsecret_last_error_code()) })
    }

    // MARK: items

    /// One keyring item, read out of libsecret.
    struct Item {
        var locked: Bool
        var secret: String?
        var attributes: [String: String]
    }

    private static let attributeNames = ["registry", "kind", "identity", "server_url", "username", "issued_at", "expires_at", "version"]

    private func search(_ query: [String: String], loadSecrets: Bool) throws -> [Item] {
        try withItems(query, loadSecrets: loadSecrets) { list in
            (0..<clibsecret_list_count(list)).compactMap { index in
                guard let item = clibsecret_list_item(list, index) else { return nil }
                let attributes = Self.attributes(of: item)
                var secret: String?
                if let value = clibsecret_item_copy_secret(item) {
                    secret = String(cString: value)
                    free(value)
                }
                return Item(locked: clibsecret_item_locked(item) != 0, secret: secret, attributes: attributes)
            }
        }
    }

    /// Deletes the items matching `query`, except one whose attributes are exactly `keeping`.
    @discardableResult
    private func delete(_ query: [String: String], keeping: [String: String]? = nil) throws -> Int {
        try withItems(query, loadSecrets: false) { list in
            var deleted = 0
            for index in 0..<clibsecret_list_count(list) {
                guard let item = clibsecret_list_item(list, index) else { continue }
                if let keeping, Self.attributes(of: item) == keeping { continue }
                var error: UnsafeMutablePointer<CChar>?
                let refusedBefore = clibsecret_prompts_refused()
                guard clibsecret_item_delete(item, timeoutMilliseconds, &error) == 0 else {
                    throw failure("delete", error, refusedBefore: refusedBefore, operation: "delete \(query["registry"] ?? "an item")")
                }
                deleted += 1
            }
            return deleted
        }
    }

    /// The attributes of an item that this tool reads and writes.
    fileprivate static func attributes(of item: UnsafeMutableRawPointer) -> [String: String] {
        var attributes: [String: String] = [:]
        for name in attributeNames {
            if let value = clibsecret_item_copy_attribute(item, name) {
                attributes[name] = String(cString: value)
                free(value)
            }
        }
        return attributes
    }

    /// Runs `body` over the items matching `query`; the list is freed afterwards.
    private func withItems<T>(_ query: [String: String], loadSecrets: Bool,
                              _ body: (UnsafeMutableRawPointer?) throws -> T) throws -> T {
        try checkResponsive()
        let attributes = Attributes(query)
        var status: Int32 = 0
        var error: UnsafeMutablePointer<CChar>?
        let list = clibsecret_search(service, attributes.table, loadSecrets ? 1 : 0, timeoutMilliseconds, &status, &error)
        defer { clibsecret_list_free(list) }
        guard status == 0 else { throw failure("search", error) }
        return try body(list)
    }

    private static func record(from item: Item) -> CredentialRecord? {
        let attributes = item.attributes
        guard !item.locked, let secret = item.secret, attributes["version"] == String(CredentialRecord.currentVersion),
              let kindName = attributes["kind"], let kind = CredentialRecord.Kind(rawValue: kindName),
              let registry = attributes["registry"], let identity = attributes["identity"],
              let serverURL = attributes["server_url"], let username = attributes["username"],
              let issued = attributes["issued_at"].flatMap(EpochSeconds.parse), let expiresText = attributes["expires_at"]
        else { return nil }
        let expiresAt = expiresText == "never" ? nil : EpochSeconds.parse(expiresText)
        guard expiresText == "never" || expiresAt != nil else { return nil }
        let record = CredentialRecord(kind: kind, registry: registry, serverURL: serverURL, identity: identity, username: username,
                                      secret: secret, issuedAt: issued, expiresAt: expiresAt)
        return record.isPlausible ? record : nil
    }

    /// A GHashTable of attributes, freed with this value.
    fileprivate final class Attributes {
        let table: UnsafeMutableRawPointer

        init(_ values: [String: String]) {
            table = clibsecret_attributes_new()
            for (name, value) in values { clibsecret_attributes_set(table, name, value) }
        }

        deinit {
            clibsecret_attributes_free(table)
        }
    }
}
