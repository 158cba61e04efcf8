// The node doctor's first two checks: which kubelet flags, and which environment the provider runs with.

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

    /// The report of these checks alone, for when the others cannot run.
    package var report: Doctor.Report { Doctor.Report(registry: nil, checks: checks) }

    /// Whether the checks after these can run.
    package var canGoOn: Bool { configPath != nil && binDirectory != nil }

    /// Takes the given flags, and looks for the missing ones as the kubelet was started.
    /// - Parameters:
    ///   - config, binDirectory: `--config` and `--bin-dir`, when given.
    ///   - ownEnvironment: this process's environment, used when the kubelet's cannot be read.
    ///   - process: the running kubelet (`KubeletFlags.runningKubelet()`), if any.
    ///   - kubeletEnvironment: reads a process's environment (`/proc/PID/environ`).
    package init(config: String?, binDirectory: String?, ownEnvironment: [String: String], process: KubeletFlags.Process?,
                kubeletEnvironment: (Int32) -> [String: String]? = { KubeletFlags.environment(of: $0) }) {
        var checks: [Doctor.Check] = []
        var configPath = config
        var binDirectory = binDirectory
        if config == nil || binDirectory == nil {
            var tried: [String] = []
            if let found = KubeletFlags.find(process: process, tried: &tried) {
                configPath = configPath ?? found.config
                binDirectory = binDirectory ?? found.binDirectory
                var missing: [String] = []
                if configPath == nil { missing.append("--image-credential-provider-config") }
                if binDirectory == nil { missing.append("--image-credential-provider-bin-dir") }
                let shown = [configPath.map { "--image-credential-provider-config=\($0)" }, binDirectory.map { "--image-credential-provider-bin-dir=\($0)" }]
                    .compactMap { $0 }
                checks.append(Doctor.Check(
                    name: "flags", status: missing.isEmpty ? .ok : .problem,
                    summary: missing.isEmpty ? "from \(found.source)" : "\(found.source) has no \(missing.joined(separator: " and "))",
                    details: shown,
                    hint: missing.isEmpty ? nil : "without both flags the kubelet runs no credential provider, and ECR pulls are anonymous "
                        + "(\"no basic auth credentials\"): add them where the kubelet's flags are set"))
            } else {
                checks.append(Doctor.Check(
                    name: "flags", status: .problem, summary: "no kubelet flags found",
                    details: ["looked at: " + tried.joined(separator: ", ")],
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
            let why = process.map { "the running \($0.kind)'s (/proc/\($0.pid)/environ) cannot be read: run as root to use it" } ?? "no kubelet is running"
            checks.append(Doctor.Check(name: "environment", status: process == nil ? .ok : .warning,
                                       summary: "the provider runs with this doctor's own environment: \(why)",
                                       details: [], hint: process == nil ? nil : "the kubelet's environment (its AWS_* and proxy variables) may differ"))
        }
        self.configPath = configPath
        self.binDirectory = binDirectory
        self.environment = environment
        self.checks = checks
    }
}
