// A failed system call, with the errno that explains it.
#if canImport(Glibc)
import Glibc
#endif

/// A failed system call on a path: what was attempted, where, and the `errno`.
package struct SystemError: Error, Sendable, CustomStringConvertible {
    /// What was being done ("open", "rename", ...).
    package var operation: String
    /// The file or directory involved.
    package var path: String
    /// The `errno` value.
    package var code: Int32

    /// Creates an error from an explicit `errno` value.
    package init(_ operation: String, path: String, code: Int32) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    /// Captures the current `errno`.
    package static func current(_ operation: String, path: String) -> SystemError {
        SystemError(operation, path: path, code: errno)
    }

    /// For example "cannot rename /home/u/.cache/x: Permission denied".
    package var description: String {
        "cannot \(operation) \(path): \(String(cString: strerror(code)))"
    }
}
