// The program's version, as `version` and `--version` print it.
import CBuildInfo

/// The program's name, version and the git commit it was built from.
package enum ToolVersion {
    /// The version. The release tarball, the Debian package and the packaged man pages take it
    /// from the binary, so this is the one place it is written.
    package static let number = "0.1.0"
    /// The abbreviated git commit the binary was built from (`1a2b3c4`, or `1a2b3c4-dirty` when
    /// the work tree had uncommitted changes), as scripts/build-release stamps it; nil when the
    /// build was not stamped (a plain `swift build`, or a source tree outside git).
    package static let commit: String? = {
        let stamped = String(cString: cbuildinfo_commit())
        return stamped.isEmpty ? nil : stamped
    }()
    /// `docker-credential-ecr 0.1.0 (1a2b3c4)`, or `docker-credential-ecr 0.1.0 (commit unknown)`:
    /// one line, as docker and podman expect from `version`.
    package static let line = line(program: "docker-credential-ecr")

    /// `PROGRAM 0.1.0 (1a2b3c4)`: the same line for each executable of the package.
    package static func line(program: String) -> String {
        "\(program) \(number) (\(commit ?? "commit unknown"))"
    }
}
