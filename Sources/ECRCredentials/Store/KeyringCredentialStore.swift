// Credential records in the Secret Service keyring (GNOME Keyring, KeePassXC, KWallet...).
import CLibsecret

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Keeps records as items of the default keyring collection, through libsecret.
///
/// Items use the schema `io.github.docker_credential_ecr.Credential`; the secret is the
/// password alone, and the attributes `registry`, `kind` (`token` or `login`), `identity`,
/// `server_url`, `username`, `issued_at`, `expires_at` (seconds since 1970, or `never`) and
/// `version` describe it, so `secret-tool search registry HOST` finds them.
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
        /// For example "the keyring is not available: the default collection is locked".
        public var description: String { "the keyring is not available: \(reason)" }
    }

    /// A keyring operation that failed after the keyring was opened.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// What was being done.
        public var operation: String
        /// libsecret's message.
        public var message: String
        /// For example "keyring search failed: ...".
        public var description: String { "keyring \(operation) failed: \(message)" }
    }

    /// "keyring".
    public let name = "keyring"
    private let service: UnsafeMutableRawPointer

    private init(service: UnsafeMutableRawPointer) {
        self.service = service
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
    /// - Throws: `Unavailable`, in milliseconds, naming the reason.
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
        guard let service = clibsecret_service_connect(&error) else {
            throw Unavailable(reason: take(error) ?? "cannot connect to the Secret Service")
        }
        let store = KeyringCredentialStore(service: service)
        switch clibsecret_default_collection_state(service, &error) {
        case 0: return store
        case 1: throw Unavailable(reason: "the default collection is locked")
        case 2: throw Unavailable(reason: "there is no default collection")
        default: throw Unavailable(reason: take(error) ?? "the default collection cannot be read")
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
        try search(["registry": registry, "kind": kind.rawValue, "identity": identity], loadSecrets: true)
            .lazy.compactMap(Self.record(from:)).first
    }

    public func save(_ record: CredentialRecord) throws {
        try delete(["registry": record.registry, "kind": record.kind.rawValue, "identity": record.identity])
        let attributes = Attributes([
            "registry": record.registry, "kind": record.kind.rawValue, "identity": record.identity,
            "server_url": record.serverURL, "username": record.username, "issued_at": String(Int(record.issuedAt)),
            "expires_at": record.expiresAt.map { String(Int($0)) } ?? "never", "version": String(record.version),
        ])
        let label = record.kind == .token ? "ECR token for \(record.registry)" : "Registry login for \(record.serverURL)"
        var error: UnsafeMutablePointer<CChar>?
        guard clibsecret_store(service, attributes.table, label, record.secret, &error) == 0 else {
            throw Failure(operation: "store", message: Self.take(error) ?? "unknown error")
        }
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
                var attributes: [String: String] = [:]
                for name in Self.attributeNames {
                    if let value = clibsecret_item_copy_attribute(item, name) {
                        attributes[name] = String(cString: value)
                        free(value)
                    }
                }
                var secret: String?
                if let value = clibsecret_item_copy_secret(item) {
                    secret = String(cString: value)
                    free(value)
                }
                return Item(locked: clibsecret_item_locked(item) != 0, secret: secret, attributes: attributes)
            }
        }
    }

    @discardableResult
    private func delete(_ query: [String: String]) throws -> Int {
        try withItems(query, loadSecrets: false) { list in
            var deleted = 0
            for index in 0..<clibsecret_list_count(list) {
                guard let item = clibsecret_list_item(list, index) else { continue }
                var error: UnsafeMutablePointer<CChar>?
                guard clibsecret_item_delete(item, &error) == 0 else {
                    throw Failure(operation: "delete", message: Self.take(error) ?? "unknown error")
                }
                deleted += 1
            }
            return deleted
        }
    }

    /// Runs `body` over the items matching `query`; the list is freed afterwards.
    private func withItems<T>(_ query: [String: String], loadSecrets: Bool,
                              _ body: (UnsafeMutableRawPointer?) throws -> T) throws -> T {
        let attributes = Attributes(query)
        var status: Int32 = 0
        var error: UnsafeMutablePointer<CChar>?
        let list = clibsecret_search(service, attributes.table, loadSecrets ? 1 : 0, &status, &error)
        defer { clibsecret_list_free(list) }
        guard status == 0 else { throw Failure(operation: "search", message: Self.take(error) ?? "unknown error") }
        return try body(list)
    }

    private static func record(from item: Item) -> CredentialRecord? {
        let attributes = item.attributes
        guard !item.locked, let secret = item.secret, attributes["version"] == String(CredentialRecord.currentVersion),
              let kindName = attributes["kind"], let kind = CredentialRecord.Kind(rawValue: kindName),
              let registry = attributes["registry"], let identity = attributes["identity"],
              let serverURL = attributes["server_url"], let username = attributes["username"],
              let issued = attributes["issued_at"].flatMap(Double.init), let expiresText = attributes["expires_at"]
        else { return nil }
        let expiresAt = expiresText == "never" ? nil : Double(expiresText)
        guard expiresText == "never" || expiresAt != nil else { return nil }
        return CredentialRecord(kind: kind, registry: registry, serverURL: serverURL, identity: identity, username: username,
                                secret: secret, issuedAt: issued, expiresAt: expiresAt)
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
