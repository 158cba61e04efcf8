// The user's kernel keyring generation: a small private file beside the token cache that every
// namespace and sandbox of the user reaches, so a change made where the kernel keyring cannot be
// reached still retires every copy the kernel keeps.
#if canImport(Glibc)
import Glibc
#endif

extension KernelKeyringStore {
    /// One value of the user's generation: 128 random bits, new at every `store`, `erase` and
    /// `logout`. Every kernel keyring entry carries the generation it was written under, and
    /// answers only while the file still holds that value.
    package struct Generation: Sendable, Hashable, CustomStringConvertible {
        /// 32 lower-case hexadecimal digits.
        package let text: String

        /// A generation from its 32 lower-case hexadecimal digits; nil for anything else.
        package init?(text: some StringProtocol) {
            guard text.utf8.count == 32, text.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else { return nil }
            self.text = String(text)
        }

        private init(digits: String) {
            text = digits
        }

        /// A new generation, from the system's cryptographic generator (`getrandom`).
        package static func random() -> Generation {
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
            return Generation(digits: Hex.encode(bytes))
        }

        /// The digits.
        package var description: String { text }
    }

    /// The file that holds the current generation: `<directory>/kernel-generation`, mode 0600 in
    /// a 0700 directory of the user, replaced whole by rename (readers see the old or the new
    /// value, never a mix), its content `docker-credential-ecr generation 1`, a line break, the
    /// 32 digits and a line break.
    ///
    /// A user namespace (rootless podman, `unshare -U`) sees the same file under the same path:
    /// the user is mapped to another id there (0, usually), and the file's owner is mapped along
    /// with it, so the owner checks of `PrivateFile` hold on both sides. A missing file, or one
    /// that is not exactly that (torn, planted, another user's, a link), vouches for no entry:
    /// every kernel copy is then ignored until a `get` writes a fresh generation.
    package struct GenerationFile: Sendable {
        /// The directory (the token cache directory).
        package let directory: String
        /// The file.
        package let path: String
        /// The lock file that serialises changes, beside it.
        package let lockPath: String

        /// The file's name in its directory: `kernel-generation`.
        package static let fileName = "kernel-generation"
        private static let header = "docker-credential-ecr generation 1"

        /// The generation file of a token cache directory.
        package init(directory: String) {
            self.directory = directory
            path = directory + "/" + Self.fileName
            lockPath = path + ".lock"
        }

        /// Why the file cannot vouch for any entry.
        package struct Unusable: Error, Sendable, CustomStringConvertible {
            /// The file.
            package var path: String
            /// Why.
            package var reason: String
            /// For example "the kernel keyring generation /home/u/.cache/docker-credential-ecr/kernel-generation is not usable: ...".
            package var description: String { "the kernel keyring generation \(path) is not usable: \(reason)" }
        }

        /// The current generation; nil when there is no file.
        /// - Throws: `Unusable` when the file is there but is not one this tool wrote, or cannot be read.
        package func read() throws(Unusable) -> Generation? {
            let bytes: [UInt8]?
            do {
                bytes = try PrivateFile.read(path, policy: .ownRecord)
            } catch {
                throw Unusable(path: path, reason: "\(error)")
            }
            guard let bytes else { return nil }
            let text = String(decoding: bytes, as: UTF8.self)
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            guard lines.count == 3, lines[0] == Self.header, lines[2].isEmpty, let generation = Generation(text: lines[1]) else {
                throw Unusable(path: path, reason: "it is not a generation this tool wrote")
            }
            return generation
        }

        /// Writes a new generation and returns it. With `expected`, the change is made under the
        /// lock beside the file, and `followed` says whether the file still held `expected` just
        /// before (no other process changed it in between); without the lock, `followed` is false.
        /// - Throws: `SystemError` or `PrivateFile.Refusal` when the directory or file cannot be written.
        package func advance(expected: Generation? = nil, lockTimeout: Double = 2) throws -> (generation: Generation, followed: Bool) {
            try PrivateFile.makeDirectory(directory)
            let lock = try? FileLock(path: lockPath, timeout: lockTimeout)
            let followed = lock != nil && expected != nil && (try? read()) == expected
            let next = Generation.random()
            try PrivateFile.writeAtomically(Array("\(Self.header)\n\(next.text)\n".utf8), to: path)
            withExtendedLifetime(lock) {}
            return (next, followed)
        }
    }
}
