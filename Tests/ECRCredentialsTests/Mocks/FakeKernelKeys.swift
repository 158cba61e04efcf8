// An in-memory kernel key retention service, with a byte quota and switchable refusal, for unit tests.
import ECRCredentials
import Foundation
import Synchronization

/// Keys and keyrings as the kernel keeps them, enough for `KernelKeyringStore`: nested keyrings,
/// update on re-add, permissions, timeouts against an injected clock, the user's byte quota
/// (description + 1 + payload per key, as the kernel charges; an invalidated key keeps counting, as
/// until the kernel's garbage collector runs, while an update frees at once), keys of other users,
/// and refusal of every call with an errno, as a seccomp filter does.
final class FakeKernelKeys: KernelKeyCalls {
    struct Key {
        var type: String
        var description: String
        var payload: [UInt8]
        var parent: Int32
        var permissions: UInt32 = 0
        var expiresAt: Double?
        var owner = getuid()
        var dead = false
    }

    /// The user keyring, by the serial the kernel tier asks for (`SystemKernelKeys.userKeyring`).
    static let userKeyring: Int32 = SystemKernelKeys.userKeyring
    private let state: Mutex<(keys: [Int32: Key], next: Int32, calls: Int)>
    private let now: @Sendable () -> Double
    /// Bytes the user may keep.
    let quota: Int
    /// The errno every call fails with, when set.
    let refusal: Int32?
    /// The user's token cache directory, where the stores over this kernel keep their generation
    /// file (another namespace of the user passes it to its own store); removed with the kernel.
    let cacheDirectory: String

    init(quota: Int = 20_000, refusal: Int32? = nil, now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.quota = quota
        self.refusal = refusal
        self.now = now
        state = Mutex(([Self.userKeyring: Key(type: "keyring", description: "_uid.0", payload: [], parent: 0)], 200, 0))
        var template = Array((NSTemporaryDirectory() + "ecr-kernel.XXXXXX").utf8CString)
        cacheDirectory = mkdtemp(&template).map { String(cString: $0) } ?? NSTemporaryDirectory() + "ecr-kernel-\(UUID().uuidString)"
    }

    deinit {
        try? FileManager.default.removeItem(atPath: cacheDirectory)
    }

    /// How many calls were made.
    var calls: Int { state.withLock { $0.calls } }

    /// Every live key of type `user`, but the generation keys.
    var userKeys: [Key] {
        state.withLock { state in
            state.keys.values.filter { $0.type == "user" && live($0) && !$0.description.hasPrefix("docker-credential-ecr:1:generation:") }
        }
    }

    /// Changes a key's payload behind the store's back (a planted or corrupted key).
    func overwrite(description: String, payload: [UInt8]) {
        state.withLock { state in
            for (serial, key) in state.keys where key.description == description { state.keys[serial]?.payload = payload }
        }
    }

    private func live(_ key: Key) -> Bool { !key.dead && (key.expiresAt.map { $0 > now() } ?? true) }

    /// Adds a key as another user (or the same one, bypassing the store) would.
    @discardableResult
    func plant(type: String = "user", description: String, payload: [UInt8], in keyring: Int32, owner: uid_t = getuid(),
               permissions: UInt32 = 0x003F_0000) -> Int32 {
        state.withLock { state in
            let serial = state.next
            state.next += 1
            state.keys[serial] = Key(type: type, description: description, payload: payload, parent: keyring, permissions: permissions,
                                     owner: owner)
            return serial
        }
    }

    /// The serial of the live key with this description.
    func serial(of description: String) -> Int32? {
        state.withLock { state in state.keys.first { $0.value.description == description && live($0.value) }?.key }
    }

    /// A key's permissions.
    func permissions(of serial: Int32) -> UInt32? { state.withLock { $0.keys[serial]?.permissions } }

    /// Keys whose permissions cannot be changed (besides other users' keys, as in the kernel).
    var lockedPermissions: Set<Int32> {
        get { locked.withLock { $0 } }
        set { locked.withLock { $0 = newValue } }
    }
    private let locked = Mutex<Set<Int32>>([])

    private func enter(_ operation: String) throws(KernelKeyFailure) {
        state.withLock { $0.calls += 1 }
        if let refusal { throw KernelKeyFailure(operation, code: refusal) }
    }

    func search(keyring: Int32, type: String, description: String) throws(KernelKeyFailure) -> Int32? {
        try enter("keyctl search")
        return state.withLock { state in
            func within(_ serial: Int32) -> Bool {
                var parent = state.keys[serial]?.parent
                while let current = parent, current != 0 {
                    if current == keyring { return true }
                    parent = state.keys[current]?.parent
                }
                return false
            }
            return state.keys.first { $0.value.type == type && $0.value.description == description && within($0.key) && live($0.value) }?.key
        }
    }

    func add(type: String, description: String, payload: [UInt8], keyring: Int32) throws(KernelKeyFailure) -> Int32 {
        try enter("add_key")
        let result: Result<Int32, KernelKeyFailure> = state.withLock { state in
            let existing = state.keys.first {
                $0.value.type == type && $0.value.description == description && $0.value.parent == keyring && !$0.value.dead
            }
            // Dead keys still count: the quota comes back when the garbage collector runs.
            let used = state.keys.values.filter { ($0.dead || live($0)) && $0.type == "user" }
                .reduce(0) { $0 + $1.description.utf8.count + 1 + $1.payload.count }
            let freed = existing.map { $0.value.type == "user" ? $0.value.description.utf8.count + 1 + $0.value.payload.count : 0 } ?? 0
            if type == "user", used - freed + description.utf8.count + 1 + payload.count > quota {
                return .failure(KernelKeyFailure("add_key", code: EDQUOT))
            }
            if let existing, type == "user" {
                state.keys[existing.key]?.payload = payload
                return .success(existing.key)
            }
            if let existing { state.keys[existing.key] = nil }
            let serial = state.next
            state.next += 1
            state.keys[serial] = Key(type: type, description: description, payload: payload, parent: keyring)
            return .success(serial)
        }
        return try result.get()
    }

    func read(_ key: Int32, limit: Int) throws(KernelKeyFailure) -> [UInt8] {
        try enter("keyctl read")
        let result: Result<[UInt8], KernelKeyFailure> = state.withLock { state in
            guard let found = state.keys[key], live(found) else { return .failure(KernelKeyFailure("keyctl read", code: ENOKEY)) }
            if found.type == "keyring" {
                let children = state.keys.filter { $0.value.parent == key && live($0.value) }.keys.sorted()
                return .success(children.flatMap { withUnsafeBytes(of: $0) { Array($0) } })
            }
            return .success(Array(found.payload.prefix(limit)))
        }
        return try result.get()
    }

    func describe(_ key: Int32) throws(KernelKeyFailure) -> String {
        try enter("keyctl describe")
        guard let found = state.withLock({ $0.keys[key] }), live(found) else { throw KernelKeyFailure("keyctl describe", code: ENOKEY) }
        return "\(found.type);\(found.owner);\(getgid());\(String(found.permissions, radix: 16, uppercase: false).leftPadded(8));\(found.description)"
    }

    func setPermissions(_ key: Int32, _ permissions: UInt32) throws(KernelKeyFailure) {
        try enter("keyctl setperm")
        if lockedPermissions.contains(key) || state.withLock({ $0.keys[key]?.owner }) != getuid() {
            throw KernelKeyFailure("keyctl setperm", code: EACCES)
        }
        state.withLock { $0.keys[key]?.permissions = permissions }
    }

    func update(_ key: Int32, payload: [UInt8]) throws(KernelKeyFailure) {
        try enter("keyctl update")
        state.withLock { $0.keys[key]?.payload = payload }
    }

    func setTimeout(_ key: Int32, seconds: UInt32) throws(KernelKeyFailure) {
        try enter("keyctl set_timeout")
        let at = now() + Double(seconds)
        state.withLock { $0.keys[key]?.expiresAt = at }
    }

    func invalidate(_ key: Int32) throws(KernelKeyFailure) {
        try enter("keyctl invalidate")
        state.withLock { $0.keys[key]?.dead = true }
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
