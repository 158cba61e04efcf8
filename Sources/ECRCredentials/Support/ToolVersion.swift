// The program's version, as `version` and `--version` print it.

/// The program's name and version.
public enum ToolVersion {
    /// The version.
    public static let number = "0.1.0"
    /// `docker-credential-ecr 0.1.0`.
    public static let line = "docker-credential-ecr \(number)"
}
