// A command that failed after saying why.

/// Thrown by a command that has already written why it failed (on stderr, or in its report):
/// the process ends with `status` and prints nothing more.
package struct CommandFailure: Error, Sendable, CustomStringConvertible {
    /// The exit status.
    package var status: Int32

    /// Exit status 1.
    package static let failure = CommandFailure(status: 1)

    /// A failure ending with `status`.
    package init(status: Int32) {
        self.status = status
    }

    /// For example "the command failed with exit status 1".
    package var description: String { "the command failed with exit status \(status)" }
}
