// `ecr-credential-provider containerd-hosts`: containerd's hosts.toml files for the mirrors.
import ArgumentParser
import ECRCredentials

/// Writes `DIR/UPSTREAM/hosts.toml` for each mirror, so containerd pulls upstream images through ECR.
struct ContainerdHostsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "containerd-hosts",
        abstract: "Write containerd's hosts.toml files that pull upstream images (docker.io/...) through their ECR mirror.",
        discussion: """
        For each mirror, writes DIR/UPSTREAM/hosts.toml (DIR is containerd's config_path, /etc/containerd/certs.d by default): the ECR registry with the repository prefix as the only host, capabilities pull and resolve, override_path. The server line is the mirror too, so a pull whose mirror fails fails with ECR's error and never sends the ECR token to the upstream. Files of other hosts are left alone; a hosts.toml this tool did not write is replaced only with --force.
        """)

    @OptionGroup var mirrors: MirrorOptions

    @Option(name: .customLong("dir"), help: ArgumentHelp("containerd's config_path.", valueName: "directory"))
    var directory = ContainerdHosts.defaultDirectory

    @Flag(help: "Print the files instead of writing them.")
    var dryRun = false

    @Flag(help: "Replace hosts.toml files this tool did not write.")
    var force = false

    func validate() throws {
        if mirrors.mirror.isEmpty && mirrors.pullThroughCache.isEmpty {
            throw ValidationError("give --mirror UPSTREAM=ECR_HOST/PREFIX or --pull-through-cache ECR_HOST")
        }
        if directory.isEmpty { throw ValidationError("--dir needs a directory") }
    }

    func run() throws {
        let map = try mirrors.map(Composition())
        let hosts = ContainerdHosts(directory: directory, force: force)
        let entries = try hosts.plan(map)
        if dryRun {
            try StandardStreams.writeOutput(entries.map { "# \($0.path)\n\($0.text)" }.joined(separator: "\n"))
            return
        }
        try hosts.write(entries)
        var report = entries.map { "\($0.isUnchanged ? "unchanged" : "wrote") \($0.path): \($0.mirror.upstream) -> \($0.mirror.target)\n" }
            .joined()
        report += hosts.restartAdvice
        try StandardStreams.writeOutput(report)
    }
}
