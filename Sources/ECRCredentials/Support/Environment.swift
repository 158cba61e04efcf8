// The process environment as an injectable value.
#if canImport(Glibc)
import Glibc
#endif

/// A snapshot of environment variables; passed explicitly so tests control every input.
public struct Environment: Sendable {
    /// The variables by name.
    public var variables: [String: String]

    /// Creates an environment from explicit variables.
    public init(_ variables: [String: String] = [:]) {
        self.variables = variables
    }

    /// The environment of the running process, read from `environ`.
    public static func current() -> Environment {
        var variables: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let pair = String(cString: entry)
            if let equals = pair.firstIndex(of: "=") {
                variables[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            cursor += 1
        }
        return Environment(variables)
    }

    /// The value of `name`, or nil when it is unset or empty.
    public subscript(_ name: String) -> String? {
        guard let value = variables[name], !value.isEmpty else { return nil }
        return value
    }

    /// Whether `name` is set to a true-like value (`1`, `true`, `yes`, `on`; any case).
    public func isTrue(_ name: String) -> Bool {
        guard let value = self[name]?.lowercased() else { return false }
        return ["1", "true", "yes", "on"].contains(value)
    }

    /// The user's home directory: `HOME`, else the password database entry.
    public var homeDirectory: String {
        if let home = self["HOME"] { return home }
        if let entry = getpwuid(getuid()), let directory = entry.pointee.pw_dir {
            return String(cString: directory)
        }
        return "/"
    }

    /// `$XDG_CACHE_HOME`, defaulting to `~/.cache` (relative values are ignored, as the spec says).
    public var cacheHome: String { xdgDirectory("XDG_CACHE_HOME", default: ".cache") }

    /// `$XDG_CONFIG_HOME`, defaulting to `~/.config`.
    public var configHome: String { xdgDirectory("XDG_CONFIG_HOME", default: ".config") }

    /// `$XDG_STATE_HOME`, defaulting to `~/.local/state`.
    public var stateHome: String { xdgDirectory("XDG_STATE_HOME", default: ".local/state") }

    /// `$XDG_DATA_HOME`, defaulting to `~/.local/share`.
    public var dataHome: String { xdgDirectory("XDG_DATA_HOME", default: ".local/share") }

    private func xdgDirectory(_ name: String, default relative: String) -> String {
        if let value = self[name], value.hasPrefix("/") { return value }
        return homeDirectory + "/" + relative
    }

    /// Expands a leading `~/` to the home directory.
    public func expandingTilde(_ path: String) -> String {
        if path == "~" { return homeDirectory }
        if path.hasPrefix("~/") { return homeDirectory + path.dropFirst() }
        return path
    }
}
