// A failed system call, with the errno that explains it.
#if canImport(Glibc)
import Glibc
#endif

/// A failed system call on a path: what was attempted, where, and the `errno`.
public struct SystemError: Error, Sendable, CustomStringConvertible {
    /// What was being done ("open", "rename", ...).
    public var operation: String
    /// The file or directory involved.
    public var path: String
    /// The `errno` value.
    public var code: Int32

    /// Creates an error from an explicit `errno` value.
    public init(_ operation: String, path: String, code: Int32) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    /// Captures the current `errno`.
    public static func current(_ operation: String, path: String) -> SystemError {
        SystemError(operation, path: path, code: errno)
    }

    /// For example "cannot rename /home/u/.cache/x: Permission denied".
    public var description: String {
        "cannot \(operation) \(path): \(String(cString: strerror(code)))"
    }
}
