// Reading and atomically writing files that only the user may read.
#if canImport(Glibc)
import Glibc
#endif

/// File operations for secrets: directories 0700, files 0600, writes by temp file and rename.
///
/// Every read opens with `O_NONBLOCK` (a FIFO planted in place of a file cannot hang us) and
/// checks the open descriptor with `fstat`: a regular file, of bounded size, and for this tool's
/// own records also owned by the user and not reached through a symbolic link.
package enum PrivateFile {
    /// Largest file read; anything bigger is not one of ours.
    package static let maximumSize = 1 << 20

    /// What a read accepts besides a regular file of at most `maximumSize` bytes.
    package enum ReadPolicy: Sendable {
        /// A file this tool wrote (a cached token, a stored login): not a symbolic link
        /// (`O_NOFOLLOW`), and owned by the user.
        case ownRecord
        /// A file another program manages (AWS config, token files mounted by Kubernetes, the
        /// SSO cache, a CA bundle): symbolic links are followed, any owner.
        case external
        /// A file another program may have put in place of one of ours: not a symbolic link,
        /// any owner.
        case notFollowed
    }

    /// Why a file or directory was refused; the description says why.
    package struct Refusal: Error, Sendable, CustomStringConvertible {
        /// The file or directory.
        package var path: String
        /// Why it was refused.
        package var reason: String
        /// For example "refusing /tmp/x: it is a FIFO, not a regular file".
        package var description: String { "refusing \(path): \(reason)" }
    }

    /// Reads a whole file; nil when it does not exist.
    /// - Throws: `Refusal` when it is not a regular file, is too large, or (for `.ownRecord`) is a
    ///   symbolic link or belongs to someone else; `SystemError` when it cannot be read.
    package static func read(_ path: String, policy: ReadPolicy = .external) throws -> [UInt8]? {
        let follow = policy == .external ? 0 : O_NOFOLLOW
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | follow)
        if descriptor < 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            if errno == ELOOP && policy != .external {
                throw Refusal(path: path, reason: "it is a symbolic link, and this tool only reads files it wrote itself")
            }
            throw SystemError.current("open", path: path)
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw SystemError.current("stat", path: path) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw Refusal(path: path, reason: "it is \(kindName(info.st_mode)), not a regular file")
        }
        if policy == .ownRecord && info.st_uid != geteuid() {
            throw Refusal(path: path, reason: "it is owned by uid \(info.st_uid), not by you (uid \(geteuid()))")
        }
        guard info.st_size <= maximumSize else {
            throw Refusal(path: path, reason: "it is larger than \(maximumSize) bytes")
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError.current("read", path: path)
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > maximumSize { throw Refusal(path: path, reason: "it is larger than \(maximumSize) bytes") }
        }
        return bytes
    }

    /// Checks, without reading it, that `path` is a regular file that opens without blocking,
    /// for files another library reads (the CA bundle libcurl loads).
    /// - Throws: `Refusal` or `SystemError`, as `read` does; a missing file is `SystemError`.
    package static func checkRegularFile(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard descriptor >= 0 else { throw SystemError.current("open", path: path) }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw SystemError.current("stat", path: path) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw Refusal(path: path, reason: "it is \(kindName(info.st_mode)), not a regular file")
        }
    }

    /// "a FIFO", "a directory", ... for messages.
    static func kindName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFIFO: return "a FIFO"
        case S_IFDIR: return "a directory"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFSOCK: return "a socket"
        case S_IFLNK: return "a symbolic link"
        default: return "not a regular file"
        }
    }

    /// Writes `bytes` to `path` with `mode` (and `owner`, when given), atomically: readers see the
    /// old or the new file, whole.
    ///
    /// The data goes to a new temporary file in the same directory (see `writeTemporary`), which
    /// is then renamed over `path`.
    package static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600,
                                       owner: (uid: uid_t, gid: gid_t)? = nil) throws {
        let temporary = try writeTemporary(bytes, beside: path, mode: mode, owner: owner)
        guard rename(temporary, path) == 0 else {
            let error = SystemError.current("rename", path: temporary)
            unlink(temporary)
            throw error
        }
    }

    /// Writes `bytes` to a new file beside `path` (`<path>.<pid>.<random>.tmp`, created with
    /// `O_EXCL|O_NOFOLLOW`, so nobody else's file is reused), with `mode` and `owner` set on the
    /// descriptor (`fchmod`, `fchown`: never by path) before anyone can see it; its path.
    /// Nothing is left behind when it fails.
    package static func writeTemporary(_ bytes: [UInt8], beside path: String, mode: mode_t = 0o600,
                                      owner: (uid: uid_t, gid: gid_t)? = nil) throws -> String {
        let temporary = "\(path).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard descriptor >= 0 else { throw SystemError.current("create", path: temporary) }
        var written = false
        defer {
            if !written { unlink(temporary) }
        }
        defer { close(descriptor) }
        if let owner {
            guard fchown(descriptor, owner.uid, owner.gid) == 0 else { throw SystemError.current("chown", path: temporary) }
        }
        // The umask may have narrowed the mode; secrets must never be wider than asked. After
        // fchown, which may clear the set-id bits.
        guard fchmod(descriptor, mode) == 0 else { throw SystemError.current("chmod", path: temporary) }
        try writeAll(bytes, to: descriptor, path: temporary)
        written = true
        return temporary
    }

    /// Writes every byte, retrying short writes and interruptions.
    static func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError.current("write", path: path)
            }
            offset += count
        }
    }

    /// Creates `path` and its missing parents (all 0700 when created here: secrets are never
    /// left in a directory others can list, even when a later step fails); the last component
    /// gets `mode` (default 0700).
    ///
    /// An existing directory must belong to the user (see `checkDirectory`); when its mode is
    /// wider than `mode` it is narrowed.
    /// - Throws: `Refusal` for a directory owned by someone else or a non-directory,
    ///   `SystemError` when it cannot be created or narrowed.
    package static func makeDirectory(_ path: String, mode: mode_t = 0o700) throws {
        if try checkDirectory(path, narrowingTo: mode) { return }
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            let parent = String(path[..<slash])
            var parentInfo = stat()
            if stat(parent, &parentInfo) != 0 {
                try makeDirectory(parent, mode: 0o700)
            } else {
                try checkParent(parent, parentInfo)
            }
        }
        if mkdir(path, mode) != 0 && errno != EEXIST {
            throw SystemError.current("create directory", path: path)
        }
        guard try checkDirectory(path, narrowingTo: mode) else {
            throw SystemError("create directory", path: path, code: ENOENT)
        }
    }

    /// A directory in which a private one is created must belong to the user or to root, and may
    /// be writable by others only when it is sticky (like /tmp): otherwise its owner, or anyone,
    /// could swap what is created in it.
    private static func checkParent(_ path: String, _ info: stat) throws {
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw Refusal(path: path, reason: "it is \(kindName(info.st_mode)), not a directory")
        }
        guard info.st_uid == geteuid() || info.st_uid == 0 else {
            throw Refusal(path: path, reason: "the directory is owned by uid \(info.st_uid), not by you (uid \(geteuid())) or root, "
                          + "so its owner could replace what is created in it")
        }
        guard info.st_mode & 0o002 == 0 || info.st_mode & S_ISVTX != 0 else {
            throw Refusal(path: path, reason: "the directory is writable by everyone and not sticky, "
                          + "so anyone could replace what is created in it")
        }
    }

    /// Whether the directory that keeps secrets exists; when it does, it is checked: it must be a
    /// directory (a symbolic link to one is followed) owned by the user, and a mode wider than
    /// `mode` is narrowed (files others may have put there are refused one by one by `read`).
    /// - Throws: `Refusal` naming the reason: not a directory, or owned by another user (who
    ///   could then plant or swap records).
    @discardableResult
    package static func checkDirectory(_ path: String, narrowingTo mode: mode_t = 0o700) throws -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { return false }
            throw SystemError.current("use directory", path: path)
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw Refusal(path: path, reason: "it is \(kindName(info.st_mode)), not a directory")
        }
        guard info.st_uid == geteuid() else {
            let writable = info.st_mode & 0o022 != 0 ? " and writable by others" : ""
            throw Refusal(path: path, reason: "the directory is owned by uid \(info.st_uid)\(writable), not by you (uid \(geteuid())), "
                          + "so its owner could plant or read credentials; remove it or point XDG_CACHE_HOME / XDG_DATA_HOME elsewhere")
        }
        if (info.st_mode & 0o777) & ~mode != 0 {
            guard chmod(path, mode) == 0 else { throw SystemError.current("chmod", path: path) }
        }
        return true
    }

    /// Removes a file; succeeds when it is already gone.
    package static func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT {
            throw SystemError.current("remove", path: path)
        }
    }

    /// The names of the entries of a directory (without `.` and `..`); empty when it does not exist.
    package static func names(in directory: String) throws -> [String] {
        guard let stream = opendir(directory) else {
            if errno == ENOENT || errno == ENOTDIR { return [] }
            throw SystemError.current("list", path: directory)
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            // Read the name in place, up to its NUL: copying the whole d_name array would read
            // past the end of the entry, which the kernel fills only as far as the name goes.
            let nameStart = UnsafeRawPointer(entry) + MemoryLayout<dirent>.offset(of: \dirent.d_name)!
            let name = String(cString: nameStart.assumingMemoryBound(to: CChar.self))
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
