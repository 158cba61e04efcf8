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
/// session bus without a Secret Service on it (rather than letting D-Bus activation start a
/// keyring daemon), and a process without a session bus (without even loading libsecret).
/// Not thread-safe: one instance per process, used from one thread.
public final class KeyringCredentialStore: CredentialStore, @unchecked Sendable {
    /// Why the keyring cannot be used now; the helper then falls back (or, if the keyring was
    /// required, caches nothing).
    public struct Unavailable: Error, Sendable, CustomStringConvertible {
        /// What is missing or wrong.
        public var reason: String
        /// Whether a Secret Service is there and may hold this tool's items, out of reach for now
        /// (locked, not answering), so that removing them cannot be done.
        public var mayHoldEntries = false

        /// Creates the error.
        public init(reason: String, mayHoldEntries: Bool = false) {
            self.reason = reason
            self.mayHoldEntries = mayHoldEntries
        }

        /// For example "the keyring is not available: the default collection is locked".
        public var description: String { "the keyring is not available: \(reason)" }
    }

    /// A keyring operation that failed after the keyring was opened.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// What was being done.
        public var operation: String
        /// libsecret's message.
        public var message: String
        /// The GError's domain (such as `g-dbus-error-quark`) and code, when libsecret gave one.
        public var gError: (domain: String, code: Int32)? = nil
        /// For example "keyring search failed: ...".
        public var description: String { "keyring \(operation) failed: \(message)" }
    }

    /// "keyring".
    public let name = "keyring"
    private let service: UnsafeMutableRawPointer
    /// The deadline of each D-Bus call.
    public let timeoutMilliseconds: Int32

    private init(service: UnsafeMutableRawPointer, timeoutMilliseconds: Int32) {
        self.service = service
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    deinit {
        clibsecret_object_unref(service)
    }

    /// Whether the environment names a session bus at all: `DBUS_SESSION_BUS_ADDRESS`, or the
    /// `$XDG_RUNTIME_DIR/bus` socket GLib falls back to. Without one, libsecret is not loaded.
    public static func sessionBusConfigured(_ environment: Environment) -> Bool {
        if environment["DBUS_SESSION_BUS_ADDRESS"] != nil { return true }
        guard let runtime = environment["XDG_RUNTIME_DIR"] else { return false }
        var info = stat()
        return stat(runtime + "/bus", &info) == 0 && (info.st_mode & S_IFMT) == S_IFSOCK
    }

    /// Opens the keyring if it can be used right now without a prompt.
    /// - Parameter timeoutMilliseconds: the deadline of every D-Bus call, then and later.
    /// - Throws: `Unavailable`, within about `timeoutMilliseconds` per call, naming the reason.
    public static func open(environment: Environment, timeoutMilliseconds: Int32 = 1000) throws -> KeyringCredentialStore {
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
            throw Unavailable(reason: take(error) ?? "cannot connect to the Secret Service", mayHoldEntries: true)
        }
        let store = KeyringCredentialStore(service: service, timeoutMilliseconds: timeoutMilliseconds)
        switch clibsecret_default_collection_state(service, timeoutMilliseconds, &error) {
        case 0: return store
        case 1: throw Unavailable(reason: "the default collection is locked", mayHoldEntries: true)
        case 2: throw Unavailable(reason: "there is no default collection")
        default: throw Unavailable(reason: take(error) ?? "the default collection cannot be read", mayHoldEntries: true)
        }
    }

    /// Moves a C error string into Swift and frees it.
    private static func take(_ error: UnsafeMutablePointer<CChar>?) -> String? {
        guard let error else { return nil }
        defer { free(error) }
        return String(cString: error)
    }

    // MARK: CredentialStore

    public func record(kind: CredentialRecord.Kind, registry: String, identity: String) throws -> CredentialRecord? {
        // Normally one item; after a save whose clean-up failed, the newest is the current one.
        try search(["registry": registry, "kind": kind.rawValue, "identity": identity], loadSecrets: true)
            .compactMap(Self.record(from:)).max { $0.issuedAt < $1.issuedAt }
    }

    /// Stores the new item first and only then deletes the ones it replaces, so a failure (or a
    /// crash, or a keyring that stops answering) never loses the old value.
    public func save(_ record: CredentialRecord) throws {
        try checkResponsive()
        let values = [
            "registry": record.registry, "kind": record.kind.rawValue, "identity": record.identity,
            "server_url": record.serverURL, "username": record.username, "issued_at": EpochSeconds.text(record.issuedAt),
            "expires_at": record.expiresAt.map(EpochSeconds.text) ?? "never", "version": String(record.version),
        ]
        let attributes = Attributes(values)
        let label = record.kind == .token ? "ECR token for \(record.registry)" : "Registry login for \(record.serverURL)"
        var error: UnsafeMutablePointer<CChar>?
        guard clibsecret_store(service, attributes.table, label, record.secret, timeoutMilliseconds, &error) == 0 else {
            throw failure("store", error)
        }
        // The Secret Service replaced any item with exactly these attributes; older ones differ.
        try delete(["registry": record.registry, "kind": record.kind.rawValue, "identity": record.identity], keeping: values)
    }

    public func remove(kind: CredentialRecord.Kind, registry: String, identity: String) throws {
        try delete(["registry": registry, "kind": kind.rawValue, "identity": identity])
    }

    @discardableResult
    public func removeAll(registry: String) throws -> Int {
        try delete(["registry": registry])
    }

    public func allRecords() throws -> [CredentialRecord] {
        try search([:], loadSecrets: true).compactMap(Self.record(from:))
    }

    /// Deletes the registry's token items of other identities, without reading any secret.
    @discardableResult
    public func removeTokens(registry: String, except identity: String) throws -> Int {
        try withItems(["registry": registry, "kind": CredentialRecord.Kind.token.rawValue], loadSecrets: false) { list in
            var deleted = 0
            for index in 0..<clibsecret_list_count(list) {
                guard let item = clibsecret_list_item(list, index), Self.attributes(of: item)["identity"] != identity else { continue }
                var error: UnsafeMutablePointer<CChar>?
                guard clibsecret_item_delete(item, timeoutMilliseconds, &error) == 0 else { throw failure("delete", error) }
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
        Unavailable(reason: "the Secret Service did not answer within \(timeoutMilliseconds) ms", mayHoldEntries: true)
    }

    /// The error of a failed call: `Unavailable` when it was cancelled at its deadline.
    private func failure(_ operation: String, _ error: UnsafeMutablePointer<CChar>?) -> any Error {
        let message = Self.take(error) ?? "unknown error"
        if clibsecret_timed_out() != 0 { return notAnswering }
        let domain = clibsecret_last_error_domain().map { String(cString: $0) }
        return Failure(operation: operation, message: message, gError: domain.map { ($0, clibsecret_last_error_code()) })
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
                guard clibsecret_item_delete(item, timeoutMilliseconds, &error) == 0 else {
                    throw failure("delete", error)
                }
                deleted += 1
            }
            return deleted
        }
    }

    /// The attributes of an item that this tool reads and writes.
    private static func attributes(of item: UnsafeMutableRawPointer) -> [String: String] {
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
    private final class Attributes {
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
