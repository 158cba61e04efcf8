// Reading and atomically writing files that only the user may read.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// File operations for secrets: directories 0700, files 0600, writes by temp file and rename.
public enum PrivateFile {
    /// Largest file read; anything bigger is not one of ours.
    public static let maximumSize = 1 << 20

    /// Reads a whole file; nil when it does not exist.
    /// - Throws: `SystemError` when it exists but cannot be read, or is larger than `maximumSize`.
    public static func read(_ path: String) throws -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw SystemError.current("open", path: path)
        }
        defer { close(descriptor) }
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
            if bytes.count > maximumSize { throw SystemError("read", path: path, code: EFBIG) }
        }
        return bytes
    }

    /// Writes `bytes` to `path` with `mode`, atomically: readers see the old or the new file, whole.
    ///
    /// The data goes to a new temporary file in the same directory (`O_EXCL`, so nobody else's
    /// file is reused), which is then renamed over `path`.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws {
        let temporary = "\(path).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard descriptor >= 0 else { throw SystemError.current("create", path: temporary) }
        var renamed = false
        defer {
            if !renamed { unlink(temporary) }
        }
        do {
            defer { close(descriptor) }
            // The umask may have narrowed the mode; secrets must never be wider than asked.
            guard fchmod(descriptor, mode) == 0 else { throw SystemError.current("chmod", path: temporary) }
            try writeAll(bytes, to: descriptor, path: temporary)
        }
        guard rename(temporary, path) == 0 else { throw SystemError.current("rename", path: temporary) }
        renamed = true
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

    /// Creates `path` and its missing parents; the last component gets `mode` (default 0700).
    ///
    /// An existing directory owned by the user whose mode is wider than `mode` is narrowed,
    /// so secrets never sit in a directory others can list.
    public static func makeDirectory(_ path: String, mode: mode_t = 0o700) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else { throw SystemError("use directory", path: path, code: ENOTDIR) }
            if info.st_uid == getuid() && (info.st_mode & 0o777) & ~mode != 0 {
                guard chmod(path, mode) == 0 else { throw SystemError.current("chmod", path: path) }
            }
            return
        }
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            let parent = String(path[..<slash])
            var parentInfo = stat()
            if stat(parent, &parentInfo) != 0 {
                try makeDirectory(parent, mode: 0o755)
            }
        }
        if mkdir(path, mode) != 0 && errno != EEXIST {
            throw SystemError.current("create directory", path: path)
        }
        guard chmod(path, mode) == 0 else { throw SystemError.current("chmod", path: path) }
    }

    /// Removes a file; succeeds when it is already gone.
    public static func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT {
            throw SystemError.current("remove", path: path)
        }
    }

    /// The names of the entries of a directory (without `.` and `..`); empty when it does not exist.
    public static func names(in directory: String) throws -> [String] {
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
