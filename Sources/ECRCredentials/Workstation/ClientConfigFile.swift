// The container tools' own config files: docker's config.json, podman's auth.json.
import CFileSystem

#if canImport(Glibc)
import Glibc
#endif

/// `~/.docker/config.json` (or `$DOCKER_CONFIG/config.json`), or the containers `auth.json`
/// podman, skopeo and buildah read; loaded keeping key order, written back atomically.
///
/// Writing keeps the file's mode and owner, writes through a symlink to its target (as Docker
/// Desktop and dotfile managers link the file), leaves the previous content in `<file>.bak`, and
/// refuses a file that is read-only or does not parse.
package struct ClientConfigFile: Sendable {
    /// Which tool's file.
    package enum Kind: Sendable, Equatable {
        /// docker and nerdctl: `config.json`.
        case docker
        /// podman, skopeo, buildah: `auth.json`.
        case podman
    }

    /// Why a config file cannot be used.
    package struct Problem: Error, Sendable, CustomStringConvertible {
        /// The file.
        package var path: String
        /// What is wrong with it.
        package var reason: String
        /// Whether docker cannot read it either (it is not JSON, or not an object); otherwise only
        /// this tool refuses it (too large, a link it does not follow, unreadable here).
        package var dockerCannotReadIt = false
        /// Whether it is JSON but for its encoding (bytes that are not UTF-8, half a surrogate
        /// pair), which docker reads with U+FFFD in their place.
        package var isEncoding = false
        /// For example "/home/u/.docker/config.json: line 3, column 5: expected ...; not changing it".
        package var description: String { "\(path): \(reason)" }
    }

    /// Which tool's file this is.
    package let kind: Kind
    /// The file, as named (it may be a symlink).
    package let path: String
    /// Whether it existed when loaded.
    package let exists: Bool
    /// The content as loaded: an object (empty for a missing file).
    package let document: JSONDocument
    /// The bytes as loaded, for the backup; empty for a missing file.
    let original: [UInt8]

    /// Where `kind`'s file is: `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`;
    /// `$REGISTRY_AUTH_FILE` or `$XDG_CONFIG_HOME/containers/auth.json` (the file that survives a
    /// reboot; podman also reads it when logins go to `$XDG_RUNTIME_DIR`).
    package static func path(of kind: Kind, environment: Environment) -> String {
        switch kind {
        case .docker:
            return (environment["DOCKER_CONFIG"] ?? environment.homeDirectory + "/.docker") + "/config.json"
        case .podman:
            return environment["REGISTRY_AUTH_FILE"] ?? environment.configHome + "/containers/auth.json"
        }
    }

    /// Loads `path`; a missing file is an empty object.
    /// - Throws: `Problem` for a file that cannot be read, does not parse, or is not a JSON object.
    package init(kind: Kind, path: String) throws {
        self.kind = kind
        self.path = path
        _ = try Self.checkedTarget(of: path)
        let bytes: [UInt8]?
        do {
            bytes = try PrivateFile.read(path)
        } catch {
            throw Problem(path: path, reason: "\(error)")
        }
        if let bytes, bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            throw Problem(path: path, reason: "it starts with a UTF-8 byte order mark, which docker cannot read either; remove it",
                          dockerCannotReadIt: true)
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
            let encoding = error.isEncoding
            throw Problem(path: path, reason: "\(error); it is not valid JSON, so it was not changed", dockerCannotReadIt: !encoding,
                          isEncoding: encoding)
        }
        guard parsed.members != nil else {
            throw Problem(path: path, reason: "it holds JSON that is not an object; it was not changed", dockerCannotReadIt: true)
        }
        exists = true
        original = bytes
        document = parsed
    }

    /// Runs `body` holding an exclusive lock on the directory of the file at `path`, so that two
    /// `configure` runs never both read the old file and one of them loses its change. Waits at
    /// most 10 s; no lock is taken when the directory does not exist yet.
    /// - Throws: `Problem` when the lock cannot be had; what `body` throws.
    package static func withLock<T>(path: String, _ body: () throws -> T) throws -> T {
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

    /// Writes `document` in place of the file, and what it replaced to `<file>.bak`.
    ///
    /// Other programs (`docker login`, `podman login`) replace the file without taking any lock.
    /// So the new file is swapped with the one in place in one step (`renameat2` with
    /// `RENAME_EXCHANGE`), and what comes back is compared with what the edit started from: when it
    /// is another program's newer file, `change` is made again on its content and swapped in again
    /// (at most `maximumRounds` times), so neither their write nor this one is lost. Where the file
    /// system cannot swap, the file is compared once more just before an ordinary rename.
    ///
    /// The text keeps the file's layout where it can: a file written on one line stays on one line;
    /// otherwise it is indented as docker indents it, and written on one line when that alone keeps
    /// it within `PrivateFile.maximumSize`, the most this tool (and so `doctor`) reads back.
    /// - Parameters:
    ///   - document: the content to write.
    ///   - change: makes the same edit on another content (a file another program wrote meanwhile).
    /// - Returns: the path of the backup of the previous content, when there was a file.
    /// - Throws: `Problem` when the file is read-only, has hard links, the result is too large,
    ///   another program keeps rewriting it, or it cannot be written.
    @discardableResult
    package func write(_ document: JSONDocument, reapplying change: (JSONDocument) throws -> JSONDocument) throws -> String? {
        let target = try resolvedTarget()
        var info = stat()
        var mode: mode_t = 0o600
        var owner: (uid: uid_t, gid: gid_t)?
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
        // A file another user owns keeps its owner (root editing it in a directory of root's); a
        // file root edits in a user's directory is written with that user's rights
        // (`FileSystemUser`), and so is theirs.
        if let current = owner, current.uid == geteuid() && current.gid == getegid() || (try? FileSystemUser.owner(ofPathTo: path)) != nil {
            owner = nil
        }
        var bytes = try Self.rendered(document, like: original, path: target)
        // What must be in place for this edit to replace it (nil: no file), and what the user
        // sees replaced, for the backup.
        var expected: [UInt8]? = exists ? original : nil
        var replaced = expected
        var backup: String?
        do {
            if let slash = target.lastIndex(of: "/"), slash != target.startIndex {
                let directory = String(target[..<slash])
                var directoryInfo = stat()
                if stat(directory, &directoryInfo) != 0 {
                    try PrivateFile.makeDirectory(directory)
                }
            }
            for _ in 0..<Self.maximumRounds {
                if let replaced {
                    try PrivateFile.writeAtomically(replaced, to: target + ".bak", mode: mode & 0o600, owner: owner)
                    backup = target + ".bak"
                }
                let temporary = try PrivateFile.writeTemporary(bytes, beside: target, mode: mode, owner: owner)
                defer { unlink(temporary) }
                guard let found = try Self.replace(target, with: temporary, expecting: expected) else { return backup }
                // Another program's file: make the same edit on its content.
                let theirs: JSONDocument
                do {
                    let content = found.content ?? []
                    theirs = content.allSatisfy { [0x20, 0x09, 0x0a, 0x0d].contains($0) } ? .object([]) : try JSONDocument(parsing: content)
                    guard theirs.members != nil else { throw Problem(path: target, reason: "it holds JSON that is not an object") }
                } catch {
                    if found.installed, let content = found.content {
                        try? PrivateFile.writeAtomically(content, to: target + ".bak", mode: mode & 0o600, owner: owner)
                    }
                    throw Problem(path: target, reason: "another program wrote it while it was being edited, and what it wrote cannot be "
                                  + "edited (\(error))\(found.installed ? "; that content is in \(target).bak" : ""); run the command again")
                }
                // When the swap put this edit in place anyway, that is what must come back next.
                expected = found.installed ? bytes : found.content
                replaced = found.content
                bytes = try Self.rendered(try change(theirs), like: found.content ?? [], path: target)
            }
            // Still overtaken: put the edit of their latest version in place, so that what they
            // wrote is not lost, and say so.
            if let replaced {
                try PrivateFile.writeAtomically(replaced, to: target + ".bak", mode: mode & 0o600, owner: owner)
            }
            try PrivateFile.writeAtomically(bytes, to: target, mode: mode, owner: owner)
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Problem(path: target, reason: "\(error)")
        }
        throw Problem(path: target, reason: "another program rewrote it \(Self.maximumRounds) times while it was being edited; the "
                      + "change is made on its latest version, but it may be writing again: check the file, or run the command again")
    }

    /// How many times a write is made again on the file another program wrote meanwhile: 5.
    static let maximumRounds = 5

    /// What was in place of the file when a new one was put there, when it was not what the edit
    /// started from.
    struct Overtaken {
        /// Its content; nil when the file had been removed.
        var content: [UInt8]?
        /// Whether the new file is in place anyway (swapped in), so the next round must find it.
        var installed: Bool
    }

    /// Puts `temporary` at `target`: swapped with the file in place, or renamed where there is
    /// none; nil when what was in place is `expected` (nil: no file), else what was found.
    private static func replace(_ target: String, with temporary: String, expecting expected: [UInt8]?) throws -> Overtaken? {
        if expected != nil {
            // A look first: a file that already differs is edited again without swapping, so a
            // writer never reads this edit of an older content (and writes that back).
            let current = try PrivateFile.read(target, policy: .notFollowed)
            guard current == expected else { return Overtaken(content: current, installed: false) }
            if cfilesystem_rename_exchange(temporary, target) == 0 {
                let previous = try PrivateFile.read(temporary, policy: .notFollowed) ?? []
                return previous == expected ? nil : Overtaken(content: previous, installed: true)
            }
            if errno == ENOENT {
                // Removed meanwhile: make the edit on no file.
                return Overtaken(content: nil, installed: false)
            }
            guard errno == EINVAL || errno == ENOSYS || errno == EPERM else { throw SystemError.current("rename", path: temporary) }
            // No swap on this file system: the look above was the last one; rename.
            guard rename(temporary, target) == 0 else { throw SystemError.current("rename", path: temporary) }
            return nil
        }
        if cfilesystem_rename_noreplace(temporary, target) == 0 { return nil }
        if errno == EEXIST {
            return Overtaken(content: try PrivateFile.read(target, policy: .notFollowed), installed: false)
        }
        guard errno == EINVAL || errno == ENOSYS else { throw SystemError.current("rename", path: temporary) }
        var info = stat()
        if lstat(target, &info) == 0 { return Overtaken(content: try PrivateFile.read(target, policy: .notFollowed), installed: false) }
        guard rename(temporary, target) == 0 else { throw SystemError.current("rename", path: temporary) }
        return nil
    }

    /// `document` as text in the layout of `original`: on one line when `original` was, else
    /// indented as docker writes it, or on one line when only that fits `PrivateFile.maximumSize`.
    /// - Throws: `Problem` when even one line is too large.
    static func rendered(_ document: JSONDocument, like original: [UInt8], path: String) throws -> [UInt8] {
        let end = original.lastIndex { ![0x20, 0x09, 0x0a, 0x0d].contains($0) }.map { $0 + 1 } ?? 0
        let oneLine = end > 0 && !original[..<end].contains(0x0a)
        if !oneLine {
            let indented = Array(document.text.utf8)
            if indented.count <= PrivateFile.maximumSize { return indented }
        }
        let compact = Array(document.compactText.utf8)
        guard compact.count <= PrivateFile.maximumSize else {
            throw Problem(path: path, reason: "the result would be \(compact.count) bytes, more than the \(PrivateFile.maximumSize) this tool "
                          + "reads back; not changing it")
        }
        return compact
    }

    /// The file a write goes to: the target of a symlink (followed to the end), else `path`.
    /// - Throws: `Problem` for a link loop, or a link to a file that does not exist (writing
    ///   through it would create a file wherever the link points).
    func resolvedTarget() throws -> String {
        guard let target = try Self.checkedTarget(of: path) else {
            throw Problem(path: path, reason: "it is a symbolic link to \(try Self.target(of: path)), which does not exist; not creating it")
        }
        return target
    }

    /// `path` with symbolic links followed; nil for a link to nothing. Run as root in a user's
    /// directory, a link of the user's to a file the user does not own is refused: it may point
    /// anywhere (`/etc/docker/daemon.json`), and only the user's own files are theirs to change.
    /// - Throws: `Problem` for such a link, or a link loop.
    static func checkedTarget(of path: String) throws -> String? {
        let target = try Self.target(of: path)
        guard target != path else { return target }
        var info = stat()
        let user = try FileSystemUser.owner(ofPathTo: path)
        guard stat(target, &info) == 0 else {
            if let user, errno != ENOENT {
                throw Problem(path: path, reason: "it is a symbolic link of uid \(user.uid) to \(target), which that user cannot reach "
                              + "(\(SystemError.current("use", path: target))); not changing it")
            }
            return nil
        }
        if let user, info.st_uid != user.uid {
            throw Problem(path: path, reason: "it is a symbolic link of uid \(user.uid) to \(target), which uid \(info.st_uid) owns; "
                          + "run as root, this tool changes only files of the user whose directory it is; not changing it")
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
