// Acting on files with another user's rights: root editing a user's files as that user would.
import CFileSystem

#if canImport(Glibc)
import Glibc
#endif

/// A user against whose rights file operations are checked: the thread's file-system user and
/// group (`setfsuid(2)`, `setfsgid(2)`) and the process's supplementary groups.
///
/// Root editing a file in a user's directory (`DOCKER_CONFIG=~u/.docker configure`) runs the edit
/// as that user: the kernel then lets it open, create, rename and follow links only where the user
/// could, and whatever it creates is the user's. No race between a check and a write can then
/// make root write outside the user's files, and nothing is ever chown'ed by path.
///
/// The file-system user is per thread: the body runs on the calling thread and must keep its file
/// work there. Supplementary groups are per process: they are narrowed to the user's group for
/// the body's duration and restored afterwards.
struct FileSystemUser: Sendable, Equatable {
    /// The user.
    var uid: uid_t
    /// Their primary group.
    var gid: gid_t

    /// Why the process could not take on a user's rights.
    struct CannotActAsUser: Error, Sendable, CustomStringConvertible {
        /// The user.
        var uid: uid_t
        /// The call that failed and its errno.
        var cause: SystemError
        /// For example "cannot act as uid 1000 to edit their files: cannot set the supplementary groups: ...".
        var description: String { "cannot act as uid \(uid) to edit their files: \(cause)" }
    }

    /// A path root must not follow: a directory on the way lets users other than root create or
    /// replace what comes next, so any of them could point it at a file of root's meanwhile.
    struct UnsafePath: Error, Sendable, CustomStringConvertible {
        /// The directory others may write to.
        var directory: String
        /// The component that is missing, or could be replaced, in it.
        var component: String
        /// For example "refusing /tmp/cfg: /tmp is writable by others, so ...".
        var description: String {
            "refusing \(TerminalText.printable(directory + "/" + component)): \(TerminalText.printable(directory)) is writable by users "
                + "other than root, who could put a link there meanwhile; run as root, this tool edits only files of root's own "
                + "directories or of the user whose directory it is"
        }
    }

    /// The user root should act as to change `path`: the first user other than root who owns
    /// anything the path is resolved through (a directory, or a symbolic link, wherever links
    /// lead, including `/proc/self/cwd` and links in the middle of the path), since from there on
    /// that user decides where the path leads. The file itself counts only when it is a symbolic
    /// link. Nil when the process is not root, or root owns everything on the way.
    /// - Throws: `UnsafePath` when, before any such user, the path goes through a directory of
    ///   root's that others may write to (`/tmp`) and what follows there is missing (anyone could
    ///   create it) or, without the sticky bit, could be replaced.
    static func owner(ofPathTo path: String) throws -> FileSystemUser? {
        guard geteuid() == 0 else { return nil }
        var absolute = path
        if !absolute.hasPrefix("/") {
            guard let directory = getcwd(nil, 0) else { return nil }
            defer { free(directory) }
            absolute = String(cString: directory) + "/" + path
        }
        var pending = absolute.split(separator: "/").map(String.init)
        var resolved: [String] = []
        var links = 0
        while !pending.isEmpty {
            let component = pending.removeFirst()
            if component == "." { continue }
            if component == ".." {
                _ = resolved.popLast()
                continue
            }
            let parent = "/" + resolved.joined(separator: "/")
            let current = parent == "/" ? "/" + component : parent + "/" + component
            // Who besides root may create or replace entries of the directory this one is in.
            var parentInfo = stat()
            let openParent = stat(parent, &parentInfo) == 0 && Self.othersMayWrite(parentInfo)
            let sticky = parentInfo.st_mode & S_ISVTX != 0
            var info = stat()
            guard lstat(current, &info) == 0 else {
                if openParent { throw UnsafePath(directory: parent, component: component) }
                return nil
            }
            if info.st_uid != 0 { return FileSystemUser(uid: info.st_uid, gid: primaryGroup(of: info.st_uid) ?? info.st_gid) }
            // Root's entry in a directory others may write to stays root's only with the sticky bit.
            if openParent && !sticky { throw UnsafePath(directory: parent, component: component) }
            let isLink = (info.st_mode & S_IFMT) == S_IFLNK
            if pending.isEmpty && !isLink { return nil }
            guard isLink else {
                resolved.append(component)
                continue
            }
            links += 1
            guard links <= 40 else { return nil }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink(current, &buffer, buffer.count - 1)
            guard count > 0 else { return nil }
            let target = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if target.hasPrefix("/") { resolved = [] }
            pending = target.split(separator: "/").map(String.init) + pending
        }
        return nil
    }

    /// Whether users other than root may write to a directory: its others' write bit, or its
    /// group's when the group is not root's.
    private static func othersMayWrite(_ info: stat) -> Bool {
        info.st_mode & 0o002 != 0 || (info.st_mode & 0o020 != 0 && info.st_gid != 0)
    }

    /// The user's primary group from the user database (`getpwuid_r`).
    private static func primaryGroup(of uid: uid_t) -> gid_t? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
        return entry.pw_gid
    }

    /// Runs `body` with this user's rights for every file operation on this thread, and the
    /// process's own rights again afterwards, whatever `body` does.
    /// - Throws: `CannotActAsUser` when the rights cannot be taken on; what `body` throws.
    func run<T>(_ body: () throws -> T) throws -> T {
        let count = getgroups(0, nil)
        var saved = [gid_t](repeating: 0, count: Int(max(count, 0)))
        guard count >= 0, getgroups(count, &saved) == count else { throw CannotActAsUser(uid: uid, cause: .current("read", path: "the supplementary groups")) }
        var own = [gid]
        guard setgroups(1, &own) == 0 else { throw CannotActAsUser(uid: uid, cause: .current("set", path: "the supplementary groups")) }
        defer { _ = setgroups(saved.count, &saved) }
        let previousGroup = gid_t(truncatingIfNeeded: cfilesystem_setfsgid(gid))
        defer { _ = cfilesystem_setfsgid(previousGroup) }
        let previousUser = uid_t(truncatingIfNeeded: cfilesystem_setfsuid(uid))
        defer { _ = cfilesystem_setfsuid(previousUser) }
        // Each call returns the value before it; asking again (with an invalid id, which changes
        // nothing) tells whether the change took.
        guard uid_t(truncatingIfNeeded: cfilesystem_setfsuid(uid_t.max)) == uid,
              gid_t(truncatingIfNeeded: cfilesystem_setfsgid(gid_t.max)) == gid else {
            throw CannotActAsUser(uid: uid, cause: SystemError("set", path: "the file-system user", code: EPERM))
        }
        return try body()
    }
}
