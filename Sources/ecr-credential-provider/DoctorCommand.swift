// `ecr-credential-provider doctor`: the node's view of a pull, from the kubelet's config to the registry.
import ECRCredentials

/// Prints `NodeDoctor`'s report, as text or JSON; exit status 1 when a check found a problem.
struct DoctorCommand {
    /// `doctor`'s command line.
    static let description = CommandDescription(
        name: "doctor",
        abstract: "Check what the kubelet does for an image, from its credential provider config to the registry.",
        discussion: """
        Without --config or --bin-dir, takes the kubelet's --image-credential-provider-config and --image-credential-provider-bin-dir from the running kubelet (/proc/*/cmdline; k3s and MicroK8s's kubelite embed it), else from the files that start it: EKS nodeadm's /etc/eks/kubelet/environment, kubeadm's /var/lib/kubelet/kubeadm-flags.env with /etc/default/kubelet or /etc/sysconfig/kubelet, k3s's /etc/rancher/k3s/config.yaml and config.yaml.d (kubelet-arg), MicroK8s's /var/snap/microk8s/current/args/kubelet, and the EKS AMI's /etc/eks/image-credential-provider/config.json. Only a kubelet that root runs counts (real and effective uid 0, its program a root-owned file no one else can write); others are listed as ignored. Run as root on paths it found itself, the doctor refuses a config, provider or directory above them that another user owns or can write, and runs no provider from it. The provider runs with the trusted kubelet's environment (/proc/PID/environ, readable as root), else this one.

        Reads the kubelet's credential provider config (a file, or a directory of .json, .yaml and .yml files merged in name order) with the kubelet's rules: JSON or YAML (through libyaml, libyaml-0-2), strict fields, keys at most once, kubelet.config.k8s.io v1, v1beta1 or v1alpha1, plugin API versions this binary speaks, matchImages syntax, durations, tokenAttributes. Then: every provider's name is an executable file in the bin directory; which provider matches each IMAGE (none: the closest pattern); that provider run as the kubelet runs it (its args, the kubelet's environment plus its env, a request of its apiVersion), its response decoded as strictly as the kubelet does; and the pull check with the password it answered, following --mirror mappings to the ECR repository. Exit status 1 when a check found a problem.

        --json prints {"ok":BOOL,"checks":[{"name","status","summary","details","hint"}]}: names flags (when looked for), environment, config, bin-dir, then match, provider and pull for each image (pull with finding, step, httpStatus, errorCode and action, as the docker helper's doctor gives them for an image).
        """,
        parameters: [
            .option("config", value: "file",
                    help: "The kubelet's --image-credential-provider-config (a file or a directory); found as the kubelet was started when not given.",
                    completion: .file),
            .option("bin-dir", value: "directory",
                    help: "The kubelet's --image-credential-provider-bin-dir; found as the kubelet was started when not given.",
                    completion: .directory),
            .flag("json", help: "Print the report as JSON."),
            .argument("images", value: "image", help: "Images as pod specs name them.", repeating: true),
        ])

    /// The credential provider config, or nil to find the kubelet's.
    var config: String?
    /// The provider bin directory, or nil to find the kubelet's.
    var binDir: String?
    /// Whether the report is JSON.
    var json: Bool
    /// The images to check.
    var images: [String]

    /// Reads the parsed command line.
    init(_ parsed: ParsedCommand) {
        config = parsed.value("config")
        binDir = parsed.value("bin-dir")
        json = parsed.flag("json")
        images = parsed.values("images")
    }

    /// Runs the checks and prints the report.
    func run() throws {
        let composition = Composition()
        let search = KubeletFlags.search()
        let setup = NodeDoctorSetup(config: config, binDirectory: binDir, ownEnvironment: composition.environment.variables,
                                    process: search.process, ignored: search.ignored)
        let report: Doctor.Report
        if let configPath = setup.configPath, let binDirectory = setup.binDirectory {
            let doctor = NodeDoctor(transport: composition.transport, timeouts: HTTPTimeouts(connect: 2, total: 5),
                                    environment: setup.environment)
            report = doctor.run(configPath: configPath, binDirectory: binDirectory, images: images, preamble: setup.checks,
                                requireRootOwned: setup.requiresRootOwnedFiles)
        } else {
            report = setup.report
        }
        try StandardStreams.writeOutput(json ? report.json : report.text)
        if !report.ok { throw CommandFailure.failure }
    }
}
