// The kernel key retention service as an injectable boundary: the calls the kernel tier makes.
import CKernelKeyring

#if canImport(Glibc)
import Glibc
#endif

/// The few key retention service calls (add_key(2), keyctl(2)) the kernel keyring tier needs;
/// `SystemKernelKeys` makes them, tests substitute an in-memory kernel to reach quota and
/// refusal paths that a test cannot arrange on the real one.
package protocol KernelKeyCalls: Sendable {
    /// The serial of the key of `type` and `description` reachable from `keyring`; nil when there
    /// is none, or it has expired or been revoked. (`keyctl(KEYCTL_SEARCH)`)
    func search(keyring: Int32, type: String, description: String) throws(KernelKeyFailure) -> Int32?
    /// Creates the key in `keyring`, or updates the payload of the one with the same type and
    /// description; its serial. (`add_key`)
    func add(type: String, description: String, payload: [UInt8], keyring: Int32) throws(KernelKeyFailure) -> Int32
    /// A key's payload, or a keyring's list of key serials (native-endian `Int32`s), at most
    /// `limit` bytes. (`keyctl(KEYCTL_READ)`)
    func read(_ key: Int32, limit: Int) throws(KernelKeyFailure) -> [UInt8]
    /// `type;uid;gid;perm;description`. (`keyctl(KEYCTL_DESCRIBE)`)
    func describe(_ key: Int32) throws(KernelKeyFailure) -> String
    /// Sets the permission mask. (`keyctl(KEYCTL_SETPERM)`)
    func setPermissions(_ key: Int32, _ permissions: UInt32) throws(KernelKeyFailure)
    /// Makes the key expire `seconds` from now. (`keyctl(KEYCTL_SET_TIMEOUT)`)
    func setTimeout(_ key: Int32, seconds: UInt32) throws(KernelKeyFailure)
    /// Replaces a key's payload; the quota follows at once. (`keyctl(KEYCTL_UPDATE)`)
    func update(_ key: Int32, payload: [UInt8]) throws(KernelKeyFailure)
    /// Makes the key unreachable at once, wherever it is linked; the kernel's garbage collector
    /// frees it (and gives back its quota) a moment later. (`keyctl(KEYCTL_INVALIDATE)`)
    func invalidate(_ key: Int32) throws(KernelKeyFailure)
}

/// A key retention service call that failed, with its `errno`.
package struct KernelKeyFailure: Error, Sendable, CustomStringConvertible {
    /// The call ("add_key", "keyctl search", ...).
    package var operation: String
    /// The `errno` value.
    package var code: Int32

    /// Creates a failure from an explicit `errno` value.
    package init(_ operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    /// Whether the kernel refuses the key calls altogether: not built in (ENOSYS), filtered by a
    /// seccomp profile (EPERM, ENOSYS), or the keyring of this user is out of reach (EACCES).
    package var isRefusal: Bool { code == ENOSYS || code == EPERM || code == EACCES }

    /// Whether the user's key quota (`/proc/sys/kernel/keys/maxbytes`, `maxkeys`) is used up.
    package var isQuotaExceeded: Bool { code == EDQUOT }

    /// For example "kernel keyring add_key failed: Disk quota exceeded".
    package var description: String {
        "kernel keyring \(operation) failed: \(String(cString: strerror(code)))"
    }
}

/// The running kernel's key retention service, through `syscall(2)` (no libkeyutils).
package struct SystemKernelKeys: KernelKeyCalls {
    /// The kernel.
    package init() {}

    /// The user's own keyring (`KEY_SPEC_USER_KEYRING`): one per user, shared by all of their
    /// sessions, kept until the user namespace ends (in practice, until reboot).
    package static let userKeyring: Int32 = CKERNELKEYRING_USER_KEYRING

    package func search(keyring: Int32, type: String, description: String) throws(KernelKeyFailure) -> Int32? {
        let serial = ckernelkeyring_search(keyring, type, description)
        if serial >= 0 { return Int32(truncatingIfNeeded: serial) }
        let code = errno
        if code == ENOKEY || code == EKEYEXPIRED || code == EKEYREVOKED { return nil }
        throw KernelKeyFailure("keyctl search", code: code)
    }

    package func add(type: String, description: String, payload: [UInt8], keyring: Int32) throws(KernelKeyFailure) -> Int32 {
        let serial = payload.withUnsafeBytes { ckernelkeyring_add_key(type, description, $0.baseAddress, $0.count, keyring) }
        guard serial >= 0 else { throw KernelKeyFailure("add_key", code: errno) }
        return Int32(truncatingIfNeeded: serial)
    }

    package func read(_ key: Int32, limit: Int) throws(KernelKeyFailure) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: limit)
        let length = buffer.withUnsafeMutableBytes { ckernelkeyring_read(key, $0.baseAddress, $0.count) }
        guard length >= 0 else { throw KernelKeyFailure("keyctl read", code: errno) }
        // A payload longer than `limit` is not one this tool wrote: refuse it rather than truncate.
        guard length <= limit else { throw KernelKeyFailure("keyctl read", code: EMSGSIZE) }
        return Array(buffer.prefix(Int(length)))
    }

    package func describe(_ key: Int32) throws(KernelKeyFailure) -> String {
        var buffer = [CChar](repeating: 0, count: 4200)
        let length = buffer.withUnsafeMutableBufferPointer {
            ckernelkeyring_keyctl(Int32(CKERNELKEYRING_DESCRIBE), UInt(bitPattern: Int(key)), UInt(bitPattern: $0.baseAddress), UInt($0.count), 0)
        }
        guard length >= 0 else { throw KernelKeyFailure("keyctl describe", code: errno) }
        guard length <= buffer.count else { throw KernelKeyFailure("keyctl describe", code: EMSGSIZE) }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    package func setPermissions(_ key: Int32, _ permissions: UInt32) throws(KernelKeyFailure) {
        try call("keyctl setperm", CKERNELKEYRING_SETPERM, key, UInt(permissions))
    }

    package func setTimeout(_ key: Int32, seconds: UInt32) throws(KernelKeyFailure) {
        try call("keyctl set_timeout", CKERNELKEYRING_SET_TIMEOUT, key, UInt(seconds))
    }

    package func update(_ key: Int32, payload: [UInt8]) throws(KernelKeyFailure) {
        let result = payload.withUnsafeBytes {
            ckernelkeyring_keyctl(Int32(CKERNELKEYRING_UPDATE), UInt(bitPattern: Int(key)), UInt(bitPattern: $0.baseAddress), UInt($0.count), 0)
        }
        guard result >= 0 else { throw KernelKeyFailure("keyctl update", code: errno) }
    }

    package func invalidate(_ key: Int32) throws(KernelKeyFailure) {
        try call("keyctl invalidate", CKERNELKEYRING_INVALIDATE, key, 0)
    }

    private func call(_ name: String, _ operation: Int, _ key: Int32, _ argument: UInt) throws(KernelKeyFailure) {
        guard ckernelkeyring_keyctl(Int32(operation), UInt(bitPattern: Int(key)), argument, 0, 0) >= 0 else {
            throw KernelKeyFailure(name, code: errno)
        }
    }
}
