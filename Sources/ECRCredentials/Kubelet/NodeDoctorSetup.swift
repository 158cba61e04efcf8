// The node doctor's first two checks: which kubelet flags, and which environment the provider runs with.

#if canImport(Glibc)
import Glibc
#endif

/// What the node doctor runs with: the config and bin directory, the environment, and the
/// `flags` and `environment` checks that say where each came from.
package struct NodeDoctorSetup: Sendable {
    /// The kubelet's provider config (a file or directory); nil when none was found.
    package var configPath: String?
    /// The kubelet's provider bin directory; nil when none was found.
    package var binDirectory: String?
    /// The environment the kubelet runs providers with.
    package var environment: [String: String]
    /// `flags` (when they were looked for) and `environment`.
    package var checks: [Doctor.Check]
    /// Whether the config, the bin directory and the providers must be root's alone before a
    /// provider runs: when this doctor runs as root and found a path itself (not given on its
    /// command line). The kubelet runs providers as root, so a file another user can change is a
    /// way to run code as root on every pull, and the doctor does not run it either.
    package var requiresRootOwnedFiles: Bool

    /// The report of these checks alone, for when the others cannot run.
    package var report: Doctor.Report { Doctor.Report(registry: nil, checks: checks) }

    /// Whether the checks after these can run.
    package var canGoOn: Bool { configPath != nil && binDirectory != nil }

    /// Takes the given flags, and looks for the missing ones as the kubelet was started.
    /// - Parameters:
    ///   - config, binDirectory: `--config` and `--bin-dir`, when given.
    ///   - ownEnvironment: this process's environment, used when the kubelet's cannot be read.
    ///   - process: the running kubelet (`KubeletFlags.search().process`), if any: only a trusted one.
    ///   - ignored: the processes named like the kubelet that were not trusted, and why (`KubeletFlags.search().ignored`).
    ///   - kubeletEnvironment: reads a process's environment (`/proc/PID/environ`).
    ///   - isRoot: whether this doctor runs as root (effective uid 0).
    package init(config: String?, binDirectory: String?, ownEnvironment: [String: String], process: KubeletFlags.Process?,
                ignored: [String] = [], kubeletEnvironment: (Int32) -> [String: String]? = { KubeletFlags.environment(of: $0) },
                isRoot: Bool = geteuid() == 0) {
        var checks: [Doctor.Check] = []
        let lookedForFlags = config == nil || binDirectory == nil
        let ignoredNote = ignored.isEmpty ? [] : ["ignored, as not the kubelet root runs: "
            + ignored.map { TerminalText.printable($0, limit: 300) }.joined(separator: "; ")]
        var configPath = config
        var binDirectory = binDirectory
        if lookedForFlags {
            var tried: [String] = []
            if let found = KubeletFlags.find(process: process, tried: &tried) {
                configPath = configPath ?? found.config
                binDirectory = binDirectory ?? found.binDirectory
                var missing: [String] = []
                if configPath == nil { missing.append("--image-credential-provider-config") }
                if binDirectory == nil { missing.append("--image-credential-provider-bin-dir") }
                let shown = [configPath.map { "--image-credential-provider-config=\($0)" }, binDirectory.map { "--image-credential-provider-bin-dir=\($0)" }]
                    .compactMap { $0 }
                let unreadable = found.problems.map { TerminalText.printable($0, limit: 300) }
                checks.append(Doctor.Check(
                    name: "flags", status: missing.isEmpty && unreadable.isEmpty ? .ok : .problem,
                    summary: missing.isEmpty ? "from \(found.source)" : "\(found.source) has no \(missing.joined(separator: " and "))",
                    details: shown + unreadable.map { "unreadable: \($0)" } + ignoredNote,
                    hint: !missing.isEmpty ? "without both flags the kubelet runs no credential provider, and ECR pulls are anonymous "
                        + "(\"no basic auth credentials\"): add them where the kubelet's flags are set"
                        : unreadable.isEmpty ? nil : "fix the unreadable file: the kubelet's distribution cannot read it either"))
            } else {
                checks.append(Doctor.Check(
                    name: "flags", status: .problem, summary: "no kubelet flags found",
                    details: ["looked at: " + tried.joined(separator: ", ")] + ignoredNote,
                    hint: "give --config and --bin-dir as the kubelet's --image-credential-provider-config and --image-credential-provider-bin-dir"))
            }
        }
        var environment = ownEnvironment
        if let process, let variables = kubeletEnvironment(process.pid) {
            environment = variables
            checks.append(Doctor.Check(name: "environment", status: .ok,
                                       summary: "the provider runs with the environment of the running \(process.kind) (pid \(process.pid), \(variables.count) variable\(variables.count == 1 ? "" : "s"))",
                                       details: [], hint: nil))
        } else {
            let why = process.map { "the running \($0.kind)'s (/proc/\($0.pid)/environ) cannot be read: run as root to use it" }
                ?? (ignored.isEmpty ? "no kubelet is running" : "no kubelet that root runs is running")
            checks.append(Doctor.Check(name: "environment", status: process == nil ? .ok : .warning,
                                       summary: "the provider runs with this doctor's own environment: \(why)",
                                       details: lookedForFlags ? [] : ignoredNote,
                                       hint: process == nil ? nil : "the kubelet's environment (its AWS_* and proxy variables) may differ"))
        }
        self.configPath = configPath
        self.binDirectory = binDirectory
        self.environment = environment
        self.checks = checks
        self.requiresRootOwnedFiles = isRoot && lookedForFlags
    }
}
