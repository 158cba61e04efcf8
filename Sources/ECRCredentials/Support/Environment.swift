// The process environment as an injectable value.
#if canImport(Glibc)
import Glibc
#endif

/// A snapshot of environment variables; passed explicitly so tests control every input.
///
/// The variables are kept as a list in `environ` order. A name that appears twice has its first
/// value, as glibc's `getenv` (and so libsecret, GLib and libcurl, which read it themselves) and
/// Go's `os.Getenv` give it: every part of the process sees the same value. Every protocol
/// action reads a handful of names from a list of a few dozen; a list costs a fraction of building
/// a dictionary, whose first use in a process also looks up String's Hashable conformance at run
/// time.
public struct Environment: Sendable {
    /// One variable.
    private struct Variable: Sendable {
        var name: String
        var value: String
    }

    private var list: [Variable]

    /// The variables by name.
    public var variables: [String: String] {
        get {
            var variables: [String: String] = [:]
            for variable in list where variables[variable.name] == nil {
                variables[variable.name] = variable.value
            }
            return variables
        }
        set {
            list = newValue.map { Variable(name: $0.key, value: $0.value) }
        }
    }

    /// Creates an environment from explicit variables.
    public init(_ variables: [String: String] = [:]) {
        list = variables.map { Variable(name: $0.key, value: $0.value) }
    }

    private init(list: [Variable]) {
        self.list = list
    }

    /// The environment of the running process, read from `environ`. An entry without `=` is
    /// skipped; names and values that are not UTF-8 are repaired as `String(cString:)` does.
    public static func current() -> Environment {
        var count = 0
        while environ[count] != nil { count += 1 }
        var list: [Variable] = []
        list.reserveCapacity(count)
        var cursor = environ
        while let entry = cursor.pointee {
            let length = strlen(entry)
            entry.withMemoryRebound(to: UInt8.self, capacity: length) { start in
                let bytes = UnsafeBufferPointer(start: UnsafePointer(start), count: length)
                if let equals = bytes.firstIndex(of: UInt8(ascii: "=")) {
                    list.append(Variable(name: String(decoding: UnsafeBufferPointer(rebasing: bytes[..<equals]), as: UTF8.self),
                                         value: String(decoding: UnsafeBufferPointer(rebasing: bytes[(equals + 1)...]), as: UTF8.self)))
                }
            }
            cursor += 1
        }
        return Environment(list: list)
    }

    /// The value of `name`, or nil when it is unset or empty. Names are compared byte for byte, as
    /// the C library's `getenv` compares them (not by Unicode canonical equivalence).
    public subscript(_ name: String) -> String? {
        // The length first: it rules out almost every variable without comparing text.
        let length = name.utf8.count
        guard let variable = list.first(where: { $0.name.utf8.count == length && $0.name == name }), !variable.value.isEmpty
        else { return nil }
        return variable.value
    }

    /// Whether `name` is set to a true-like value (`1`, `true`, `yes`, `on`; any case).
    package func isTrue(_ name: String) -> Bool {
        guard let value = self[name]?.lowercased() else { return false }
        return ["1", "true", "yes", "on"].contains(value)
    }

    /// The user's home directory: `HOME`, else the password database entry.
    package var homeDirectory: String {
        if let home = self["HOME"] { return home }
        if let entry = getpwuid(getuid()), let directory = entry.pointee.pw_dir {
            return String(cString: directory)
        }
        return "/"
    }

    /// `$XDG_CACHE_HOME`, defaulting to `~/.cache` (relative values are ignored, as the spec says).
    package var cacheHome: String { xdgDirectory("XDG_CACHE_HOME", default: ".cache") }

    /// `$XDG_CONFIG_HOME`, defaulting to `~/.config`.
    package var configHome: String { xdgDirectory("XDG_CONFIG_HOME", default: ".config") }

    /// `$XDG_STATE_HOME`, defaulting to `~/.local/state`.
    package var stateHome: String { xdgDirectory("XDG_STATE_HOME", default: ".local/state") }

    /// `$XDG_DATA_HOME`, defaulting to `~/.local/share`.
    package var dataHome: String { xdgDirectory("XDG_DATA_HOME", default: ".local/share") }

    private func xdgDirectory(_ name: String, default relative: String) -> String {
        if let value = self[name], value.hasPrefix("/") { return value }
        return homeDirectory + "/" + relative
    }

    /// Expands a leading `~/` to the home directory.
    package func expandingTilde(_ path: String) -> String {
        if path == "~" { return homeDirectory }
        if path.hasPrefix("~/") { return homeDirectory + path.dropFirst() }
        return path
    }
}
