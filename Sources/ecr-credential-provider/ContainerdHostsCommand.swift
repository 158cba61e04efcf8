// `ecr-credential-provider containerd-hosts`: containerd's hosts.toml files for the mirrors.
import ECRCredentials

/// Writes `DIR/UPSTREAM/hosts.toml` for each mirror, so containerd pulls upstream images through ECR.
struct ContainerdHostsCommand {
    /// `containerd-hosts`' command line.
    static let description = CommandDescription(
        name: "containerd-hosts",
        abstract: "Write containerd's hosts.toml files that pull upstream images (docker.io/...) through their ECR mirror.",
        discussion: """
        For each mirror, writes DIR/UPSTREAM/hosts.toml (DIR is containerd's config_path, /etc/containerd/certs.d by default): the ECR registry with the repository prefix as the only host, capabilities pull and resolve, override_path. The server line is the mirror too, so a pull whose mirror fails fails with ECR's error and never sends the ECR token to the upstream. Files of other hosts are left alone; a hosts.toml this tool did not write is replaced only with --force.
        """,
        parameters: MirrorOptions.parameters + [
            .option("dir", value: "directory", help: "containerd's config_path.", default: ContainerdHosts.defaultDirectory,
                    completion: .directory),
            .flag("dry-run", help: "Print the files instead of writing them."),
            .flag("force", help: "Replace hosts.toml files this tool did not write."),
        ])

    /// The mirrors to write files for.
    var mirrors: MirrorOptions
    /// containerd's config_path.
    var directory: String
    /// Whether to print the files instead.
    var dryRun: Bool
    /// Whether to replace files this tool did not write.
    var force: Bool

    /// Reads the parsed command line.
    /// - Throws: `CommandUsageError` for no mirror or an empty directory.
    init(_ parsed: ParsedCommand) throws(CommandUsageError) {
        mirrors = try MirrorOptions(parsed)
        directory = parsed.value("dir") ?? ContainerdHosts.defaultDirectory
        dryRun = parsed.flag("dry-run")
        force = parsed.flag("force")
        if mirrors.mirror.isEmpty && mirrors.pullThroughCache.isEmpty {
            throw parsed.usageError("give --mirror UPSTREAM=ECR_HOST/PREFIX or --pull-through-cache ECR_HOST")
        }
        if directory.isEmpty { throw parsed.usageError("--dir needs a directory") }
    }

    /// Writes (or prints) the files and says what changed.
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
