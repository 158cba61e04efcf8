// Credential records as private files, one per registry, kind and identity.
import FoundationEssentials

/// Keeps each record in its own file `<registry>@<kind>-<identity>.json` in a 0700 directory.
///
/// One file per record means parallel processes writing different registries never touch the
/// same file, so no update can be lost; each write is a temporary file renamed into place, so a
/// reader sees the old or the new record, whole. Files that do not decode (corrupt, truncated,
/// another version) are treated as absent and replaced by the next write.
public struct FileCredentialStore: CredentialStore {
    /// The directory.
    public let directory: String
    /// "file".
    public let name = "file"
    private let diagnostics: Diagnostics

    /// Creates a store in `directory` (created, mode 0700, on the first write).
    public init(directory: String, diagnostics: Diagnostics = Diagnostics()) {
        self.directory = directory
        self.diagnostics = diagnostics
    }

    /// The file of a record.
    public func path(kind: CredentialRecord.Kind, registry: String, identity: String) -> String {
        "\(directory)/\(Self.fileStem(registry))@\(kind.rawValue)-\(identity.isEmpty ? "any" : identity).json"
    }

    /// The registry key made safe for a file name (IPv6 colons and brackets replaced).
    static func fileStem(_ registry: String) -> String {
        String(registry.map { $0 == ":" ? "_" : ($0 == "[" || $0 == "]" || $0 == "/" ? "-" : $0) })
    }

    public func record(kind: CredentialRecord.Kind, registry: String, identity: String) throws -> CredentialRecord? {
        let path = path(kind: kind, registry: registry, identity: identity)
        guard let bytes = try PrivateFile.read(path) else { return nil }
        guard let record = decode(bytes, path: path),
              record.kind == kind, record.registry == registry, record.identity == identity
        else { return nil }
        return record
    }

    public func save(_ record: CredentialRecord) throws {
        try PrivateFile.makeDirectory(directory)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = try encoder.encode(record)
        try PrivateFile.writeAtomically(Array(bytes) + [0x0A], to: path(kind: record.kind, registry: record.registry, identity: record.identity))
    }

    public func remove(kind: CredentialRecord.Kind, registry: String, identity: String) throws {
        try PrivateFile.remove(path(kind: kind, registry: registry, identity: identity))
    }

    @discardableResult
    public func removeAll(registry: String) throws -> Int {
        let prefix = Self.fileStem(registry) + "@"
        var removed = 0
        for name in try PrivateFile.names(in: directory) where name.hasPrefix(prefix) && name.hasSuffix(".json") {
            try PrivateFile.remove("\(directory)/\(name)")
            removed += 1
        }
        return removed
    }

    public func allRecords() throws -> [CredentialRecord] {
        var records: [CredentialRecord] = []
        for name in try PrivateFile.names(in: directory).sorted() where name.hasSuffix(".json") {
            let path = "\(directory)/\(name)"
            guard let bytes = try? PrivateFile.read(path), let record = decode(bytes, path: path) else { continue }
            records.append(record)
        }
        return records
    }

    private func decode(_ bytes: [UInt8], path: String) -> CredentialRecord? {
        guard let record = try? JSONDecoder().decode(CredentialRecord.self, from: Data(bytes)),
              record.version == CredentialRecord.currentVersion
        else {
            diagnostics.debug("ignoring unreadable or foreign cache file \(path)")
            return nil
        }
        return record
    }
}
