// A CredentialStore in memory, with switchable failures, for unit tests.
import ECRCredentials
import Synchronization

/// Keeps records in a dictionary; `failing` makes every call throw, as a locked keyring would.
final class MemoryCredentialStore: CredentialStore {
    struct Unreadable: Error, CustomStringConvertible {
        var description: String { "the store is unreadable" }
    }

    private struct Key: Hashable {
        var kind: CredentialRecord.Kind
        var registry: String
        var identity: String
    }

    let name: String
    private let state = Mutex<(records: [Key: CredentialRecord], failing: Bool, saves: Int)>(([:], false, 0))

    init(name: String = "memory") {
        self.name = name
    }

    /// Whether every call throws `Unreadable`.
    var failing: Bool {
        get { state.withLock { $0.failing } }
        set { state.withLock { $0.failing = newValue } }
    }

    /// How many records were saved so far.
    var saves: Int { state.withLock { $0.saves } }

    /// Every record kept.
    var records: [CredentialRecord] { state.withLock { Array($0.records.values) } }

    func record(kind: CredentialRecord.Kind, registry: String, identity: String) throws -> CredentialRecord? {
        try state.withLock {
            if $0.failing { throw Unreadable() }
            return $0.records[Key(kind: kind, registry: registry, identity: identity)]
        }
    }

    func save(_ record: CredentialRecord) throws {
        try state.withLock {
            if $0.failing { throw Unreadable() }
            $0.records[Key(kind: record.kind, registry: record.registry, identity: record.identity)] = record
            $0.saves += 1
        }
    }

    func remove(kind: CredentialRecord.Kind, registry: String, identity: String) throws {
        try state.withLock {
            if $0.failing { throw Unreadable() }
            $0.records[Key(kind: kind, registry: registry, identity: identity)] = nil
        }
    }

    func removeAll(registry: String) throws -> Int {
        try state.withLock { state in
            if state.failing { throw Unreadable() }
            let keys = state.records.keys.filter { $0.registry == registry }
            for key in keys { state.records[key] = nil }
            return keys.count
        }
    }

    func allRecords() throws -> [CredentialRecord] {
        try state.withLock {
            if $0.failing { throw Unreadable() }
            return Array($0.records.values)
        }
    }
}
