// The container tools' own config files: docker's config.json, podman's auth.json.
#if canImport(Glibc)
import Glibc
#endif

/// `~/.docker/config.json` (or `$DOCKER_CONFIG/config.json`), or the containers `auth.json`
/// podman, skopeo and buildah read; loaded keeping key order, written back atomically.
///
/// Writing keeps the file's mode and owner, writes through a symlink to its target (as Docker
/// Desktop and dotfile managers link the file), leaves the previous content in `<file>.bak`, and
/// refuses a file that is read-only or does not parse.
public struct ClientConfigFile: Sendable {
    /// Which tool's file.
    public enum Kind: Sendable, Equatable {
        /// docker and nerdctl: `config.json`.
        case docker
        /// podman, skopeo, buildah: `auth.json`.
        case podman
    }

    /// Why a config file cannot be used.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        /// The file.
        public var path: String
        /// What is wrong with it.
        public var reason: String
        /// For example "/home/u/.docker/config.json: line 3, column 5: expected ...; not changing it".
        public var description: String { "\(path): \(reason)" }
    }

    /// Which tool's file this is.
    public let kind: Kind
    /// The file, as named (it may be a symlink).
    public let path: String
    /// Whether it existed when loaded.
    public let exists: Bool
    /// The content as loaded: an object (empty for a missing file).
    public let document: JSONDocument
    /// The bytes as loaded, for the backup; empty for a missing file.
    let original: [UInt8]

    /// Where `kind`'s file is: `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`;
    /// `$REGISTRY_AUTH_FILE` or `$XDG_CONFIG_HOME/containers/auth.json` (the file that survives a
    /// reboot; podman also reads it when logins go to `$XDG_RUNTIME_DIR`).
    public static func path(of kind: Kind, environment: Environment) -> String {
        switch kind {
        case .docker:
            return (environment["DOCKER_CONFIG"] ?? environment.homeDirectory + "/.docker") + "/config.json"
        case .podman:
            return environment["REGISTRY_AUTH_FILE"] ?? environment.configHome + "/containers/auth.json"
        }
    }

    /// Loads `path`; a missing file is an empty object.
    /// - Throws: `Problem` for a file that cannot be read, does not parse, or is not a JSON object.
    public init(kind: Kind, path: String) throws {
        self.kind = kind
        self.path = path
        let bytes: [UInt8]?
        do {
            bytes = try PrivateFile.read(path)
        } catch {
            throw Problem(path: path, reason: "\(error)")
        }
        if let bytes, bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            throw Problem(path: path, reason: "it starts with a UTF-8 byte order mark, which docker cannot read either; remove it")
        }
        guard let bytes, !bytes.allSatisfy({ [0x20, 0x09, 0x0a, 0x0d].contains($0) }) else {
            exists = bytes != nil
            original = bytes ?? []
            document = .object([])
            return
        }
        let parsed: JSONDocument
        do {
            parsed = try JSONDocument(parsing: bytes)
        } catch {
            throw Problem(path: path, reason: "\(error); it is not valid JSON, so it was not changed")
        }
        guard parsed.members != nil else { throw Problem(path: path, reason: "it holds JSON that is not an object; it was not changed") }
        exists = true
        original = bytes
        document = parsed
    }

    /// Runs `body` holding an exclusive lock on the directory of the file at `path`, so that two
    /// `configure` runs never both read the old file and one of them loses its change. Waits at
    /// most 10 s; no lock is taken when the directory does not exist yet.
    /// - Throws: `Problem` when the lock cannot be had; what `body` throws.
    public static func withLock<T>(path: String, _ body: () throws -> T) throws -> T {
        let probe = try ClientConfigFile.target(of: path)
        let directory = probe.lastIndex(of: "/").map { String(probe[..<$0]) } ?? "."
        let descriptor = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return try body() }
        defer { close(descriptor) }
        var waited = 0.0
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR, waited < 10 else {
                throw Problem(path: directory, reason: "another program has held a lock on the directory for \(Int(waited)) s; try again")
            }
            SystemClock().sleep(seconds: 0.02)
            waited += 0.02
        }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }

    /// Writes `document` in place of the file.
    /// - Returns: the path of the backup of the previous content, when there was a file.
    /// - Throws: `Problem` when the file is read-only, has hard links, changed since it was read,
    ///   or cannot be written.
    @discardableResult
    public func write(_ document: JSONDocument) throws -> String? {
        let target = try resolvedTarget()
        var info = stat()
        var mode: mode_t = 0o600
        var owner: (uid_t, gid_t)?
        if stat(target, &info) == 0 {
            mode = info.st_mode & 0o7777
            owner = (info.st_uid, info.st_gid)
            if info.st_nlink > 1 {
                throw Problem(path: target, reason: "it has \(info.st_nlink) hard links, which replacing it would split; not changing it")
            }
            if mode & 0o222 == 0 {
                throw Problem(path: target, reason: "it is read-only (mode \(String(mode, radix: 8))); not changing it")
            }
            if access(target, W_OK) != 0 {
                throw Problem(path: target, reason: "\(SystemError.current("write", path: target)); not changing it")
            }
        }
        // Another program (docker login) may have written the file since it was read.
        let current = (try? PrivateFile.read(target)) ?? nil
        if current != (exists ? original : nil) {
            throw Problem(path: target, reason: "it changed while it was being edited (another program wrote it); nothing was written, run the command again")
        }
        var backup: String?
        do {
            if let slash = target.lastIndex(of: "/"), slash != target.startIndex {
                let directory = String(target[..<slash])
                var directoryInfo = stat()
                if stat(directory, &directoryInfo) != 0 {
                    try PrivateFile.makeDirectory(directory)
                } else if owner == nil, geteuid() == 0, directoryInfo.st_uid != 0 {
                    // Root setting up a user's docker: a new file is the directory owner's.
                    owner = (directoryInfo.st_uid, directoryInfo.st_gid)
                }
            }
            if exists {
                let backupPath = target + ".bak"
                try PrivateFile.writeAtomically(original, to: backupPath, mode: mode & 0o600)
                if let (uid, gid) = owner, uid != geteuid() || gid != getegid() {
                    guard chown(backupPath, uid, gid) == 0 else { throw SystemError.current("chown", path: backupPath) }
                }
                backup = backupPath
            }
            try PrivateFile.writeAtomically(Array(document.text.utf8), to: target, mode: mode)
            if let (uid, gid) = owner, uid != geteuid() || gid != getegid() {
                // Root editing a user's file: the file stays the user's.
                guard chown(target, uid, gid) == 0 else { throw SystemError.current("chown", path: target) }
            }
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Problem(path: target, reason: "\(error)")
        }
        return backup
    }

    /// The file a write goes to: the target of a symlink (followed to the end), else `path`.
    /// - Throws: `Problem` for a link loop, or a link to a file that does not exist (writing
    ///   through it would create a file wherever the link points).
    func resolvedTarget() throws -> String {
        let target = try Self.target(of: path)
        if target != path, access(target, F_OK) != 0 {
            throw Problem(path: path, reason: "it is a symbolic link to \(target), which does not exist; not creating it")
        }
        return target
    }

    /// `path` with symbolic links followed to the end (the last one may dangle).
    static func target(of path: String) throws -> String {
        var current = path
        for _ in 0..<40 {
            var info = stat()
            guard lstat(current, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK else { return current }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink(current, &buffer, buffer.count - 1)
            guard count > 0 else { throw Problem(path: current, reason: "\(SystemError.current("read link", path: current))") }
            let link = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if link.hasPrefix("/") {
                current = link
            } else {
                let directory = current.lastIndex(of: "/").map { String(current[..<$0]) } ?? "."
                current = directory + "/" + link
            }
        }
        throw Problem(path: path, reason: "too many levels of symbolic links")
    }
}
