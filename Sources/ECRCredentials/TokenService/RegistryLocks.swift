// The lock files that serialise the changes to a registry's cached tokens and stored logins.

#if canImport(Glibc)
import Glibc
#endif

/// The lock files of the lock directory (`TokenSettings.lockDirectory`), and how a removal takes
/// them.
///
/// Two kinds live there, named after the registry's file stem (`FileCredentialStore.fileStem`):
/// - `<stem>@<identity>.lock`: held by the process fetching that registry's token for one
///   identity (`TokenService`), from before the fetch until the token is saved;
/// - `<stem>@login.lock`: held by `store` while it keeps a login.
///
/// A removal (`logout`, `erase`) takes every lock of the registries it clears before it removes
/// anything (`hold`): a fetch or `store` still running then finishes first, and what it saves is
/// removed with the rest instead of landing afterwards. Each lock is marked changed as it is
/// taken, so that a fetch that began earlier without its lock (it gave up waiting for it) sees the
/// mark and does not save afterwards either. Only the locks someone was holding are kept until the
/// removal is done; the others are let go at once, so a directory of thousands of lock files (one
/// per identity that ever fetched) costs no more than one open file at a time.
package struct RegistryLocks: Sendable {
    /// The lock directory.
    package let directory: String

    /// The locks of `directory`.
    package init(directory: String) {
        self.directory = directory
    }

    /// Who holds a lock file while changing entries.
    package enum Holder: Sendable, Hashable {
        /// The process fetching the token of one identity (its fingerprint).
        case fetch(identity: String)
        /// `store`, keeping a login.
        case store
    }

    /// The lock file of `holder` for `registry` (a registry key, as records are kept under).
    package func path(registry: String, holder: Holder) -> String {
        "\(directory)/\(FileCredentialStore.fileStem(registry))@\(Self.suffix(holder))"
    }

    private static func suffix(_ holder: Holder) -> String {
        switch holder {
        case .fetch(let identity): "\(identity).lock"
        case .store: "login.lock"
        }
    }

    /// The registry and holder a lock file's name stands for; nil for any other name (the notes of
    /// failed fetches beside the locks, temporary files, names this tool never writes).
    package static func parse(_ name: String) -> (registry: String, holder: Holder)? {
        guard name.hasSuffix(".lock"), let at = name.firstIndex(of: "@") else { return nil }
        let stem = String(name[..<at])
        let rest = name[name.index(after: at)...].dropLast(".lock".count)
        let holder: Holder
        if rest == "login" {
            holder = .store
        } else if rest.utf8.count == 32, rest.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) {
            holder = .fetch(identity: String(rest))
        } else {
            return nil
        }
        guard let registry = registry(ofStem: stem) else { return nil }
        return (registry, holder)
    }

    /// The registry key a file stem was made from; nil when `stem` is not one `fileStem` makes.
    private static func registry(ofStem stem: String) -> String? {
        var bytes: [UInt8] = []
        var iterator = stem.utf8.makeIterator()
        func hexValue(_ byte: UInt8?) -> UInt8? {
            switch byte {
            case .some(let digit) where (0x30...0x39).contains(digit): digit - 0x30
            case .some(let letter) where (0x41...0x46).contains(letter): letter - 0x41 + 10
            default: nil
            }
        }
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = hexValue(iterator.next()), let low = hexValue(iterator.next()) else { return nil }
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        let registry = String(decoding: bytes, as: UTF8.self)
        // Only the one spelling `fileStem` gives (this also refuses bytes that are not UTF-8).
        guard !registry.isEmpty, FileCredentialStore.fileStem(registry) == stem else { return nil }
        return registry
    }

    /// A lock that `hold` could not take in time: its holder is still at work.
    package struct Busy: Error, Sendable, CustomStringConvertible {
        /// The registry.
        package var registry: String
        /// Who holds it.
        package var holder: Holder
        /// The lock file.
        package var path: String
        /// The seconds waited for it.
        package var waited: Double
        /// For example "a token fetch for HOST was still running after 30 s (it holds PATH)".
        package var description: String {
            let work = switch holder {
            case .fetch: "a token fetch for \(TerminalText.printable(registry, limit: 300))"
            case .store: "a `store` of the login for \(TerminalText.printable(registry, limit: 300))"
            }
            return "\(work) was still running after \(Int(waited.rounded())) s (it holds \(TerminalText.printable(path, limit: 1000)))"
        }
    }

    /// The locks `hold` took, held until this is released, and those it could not take in time.
    /// Not thread-safe; it belongs to the removal that took it.
    package final class Held {
        /// The locks held: those a fetch or `store` was holding (the removal waited for them), and
        /// the `store` locks of the registries named.
        package let locks: [FileLock]
        /// The lock files taken at once, marked and let go: nobody was using them.
        package let passed: [String]
        /// The locks still held by a fetch or `store` when the time was up.
        package let busy: [Busy]

        init(locks: [FileLock], passed: [String], busy: [Busy]) {
            self.locks = locks
            self.passed = passed
            self.busy = busy
        }
    }

    /// Takes, one after another in the order of their paths (so two removals never wait for each
    /// other in a circle), the fetch locks of `registries` (every registry when nil) and, with
    /// `logins`, their `store` locks, marks each changed, and keeps those it had to wait for (and
    /// the `store` locks of named registries) until the result is released.
    ///
    /// The fetch locks are those in the directory (one per identity that ever fetched there);
    /// the `store` lock of a named registry is made when missing, so that a `store` that begins
    /// now waits too. Only regular files the user owns are taken, never through a symbolic link;
    /// another file under a lock's name is skipped with a warning, and one that cannot be opened
    /// (a read-only file system) with a debug line: nobody else can lock it either.
    /// - Parameters:
    ///   - timeout: the seconds all the waits together may take (a lock still held after that
    ///     is tried once more and then reported in `Held.busy`).
    ///   - clock: what the waits sleep on.
    package func hold(registries: Set<String>?, logins: Bool, timeout: Double, clock: any WallClock = SystemClock(),
                      diagnostics: Diagnostics = Diagnostics()) -> Held {
        var wanted: [String: (registry: String, holder: Holder, creating: Bool)] = [:]
        if logins, let registries {
            do {
                try PrivateFile.makeDirectory(directory)
                for registry in registries { wanted[path(registry: registry, holder: .store)] = (registry, .store, true) }
            } catch {
                // No `store` can take its lock there either.
                diagnostics.debug("not waiting for a store in progress: \(error)")
            }
        }
        do {
            if try PrivateFile.checkDirectory(directory) {
                for name in try PrivateFile.names(in: directory) {
                    guard let (registry, holder) = Self.parse(name), registries?.contains(registry) ?? true,
                          logins || holder != .store
                    else { continue }
                    let path = "\(directory)/\(name)"
                    wanted[path] = wanted[path] ?? (registry, holder, false)
                }
            }
        } catch {
            // No lock can be taken there, so no fetch holds one either.
            diagnostics.debug("not waiting for fetches in progress: \(error)")
        }
        var locks: [FileLock] = []
        var passed: [String] = []
        var busy: [Busy] = []
        var remaining = timeout
        for (path, (registry, holder, creating)) in wanted.sorted(by: { $0.key < $1.key }) {
            do {
                let lock = try FileLock(path: path, timeout: max(remaining, 0), clock: clock, creating: creating)
                remaining -= lock.waited
                lock.markChanged()
                if lock.waited > 0 {
                    diagnostics.debug("\(registry): waited \(Int(lock.waited.rounded())) s for \(path)")
                    locks.append(lock)
                } else if creating {
                    locks.append(lock)  // a `store` that begins now waits for the removal
                } else {
                    passed.append(path)  // free: let go now (the lock closes here)
                }
            } catch let failure as FileLock.TimedOut {
                remaining -= failure.waited
                busy.append(Busy(registry: registry, holder: holder, path: path, waited: timeout - max(remaining, 0)))
            } catch let failure as SystemError where failure.code == ENOENT {
                continue  // removed meanwhile: nobody holds it
            } catch let refusal as PrivateFile.Refusal {
                // Not a file this tool made: someone put it there.
                diagnostics.warning("ignoring the lock file \(TerminalText.printable(path, limit: 1000)): \(refusal)")
            } catch {
                // It cannot be opened (a read-only file system, a directory): nobody holds it either.
                diagnostics.debug("ignoring the lock file \(TerminalText.printable(path, limit: 1000)): \(error)")
            }
        }
        return Held(locks: locks, passed: passed, busy: busy)
    }
}
