// The human-facing command line of the kubelet plugin: help, version and `config`.
import ECRCredentials

/// `ecr-credential-provider --help`, `version`, `config`, `containerd-hosts`, `doctor`.
enum ProviderCommand {
    /// The program's command line: its texts and subcommands.
    static let description = CommandDescription(
        name: "ecr-credential-provider",
        abstract: "Amazon ECR credentials for the kubelet (containerd and CRI-O image pulls).",
        discussion: """
        The kubelet runs this plugin for each image it pulls from a registry that matches its CredentialProviderConfig, with a CredentialProviderRequest on stdin (API credentialprovider.kubelet.k8s.io v1, v1beta1 or v1alpha1), and reads the CredentialProviderResponse on stdout: an ECR authorization token for the image's registry, cached by the kubelet for half its remaining life.

        Set it up with two kubelet flags:
          --image-credential-provider-config=FILE   (print one with `ecr-credential-provider config`)
          --image-credential-provider-bin-dir=DIR   (the directory holding this executable)

        Check it by hand:
          echo '{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderRequest","image":"123456789012.dkr.ecr.us-east-1.amazonaws.com/app"}' | ecr-credential-provider

        See ecr-credential-provider(1).
        """,
        subcommands: [Config.description, ContainerdHostsCommand.description, DoctorCommand.description, Version.description]
    )

    /// Runs a subcommand, or `--help`/`--version`; a usage error goes to stderr with the
    /// command's usage (exit status 64), quoting a mistyped argument without control characters.
    static func run(_ arguments: [String]) -> Never {
        let parser = CommandParser(root: description, version: ToolVersion.line(program: "ecr-credential-provider"))
        CommandRunner(parser: parser, program: "ecr-credential-provider").main(arguments) { parsed in
            switch parsed.subcommand {
            case "config": try Config(parsed).run()
            case "containerd-hosts": try ContainerdHostsCommand(parsed).run()
            case "doctor": try DoctorCommand(parsed).run()
            case "version": try Version().run()
            default: throw parsed.usageError("no such command")
            }
        }
    }

    /// Prints a complete CredentialProviderConfig.
    struct Config {
        /// `config`'s command line.
        static let description = CommandDescription(
            name: "config",
            abstract: "Print the kubelet's CredentialProviderConfig (YAML) for this plugin.",
            discussion: "`ecr-credential-provider config > /etc/kubernetes/image-credential-provider-config.yaml` is the whole configuration.",
            parameters: [
                .option("service-account-audience", value: "audience",
                        help: "Ask the kubelet for service-account tokens of this audience (Kubernetes 1.34+), so that pods whose service account has the eks.amazonaws.com/ecr-role-arn annotation pull as that role."),
                .option("default-cache-duration", value: "duration",
                        help: "How long the kubelet keeps credentials when a response names no duration (Go syntax: 12h, 90m).",
                        default: "12h"),
            ] + MirrorOptions.parameters)

        /// The audience of the service-account tokens to ask for, if any.
        var serviceAccountAudience: String?
        /// How long the kubelet keeps credentials by default.
        var defaultCacheDuration: GoDuration
        /// The mirrors to configure.
        var mirrors: MirrorOptions

        /// Reads and checks the parsed command line.
        /// - Throws: `CommandUsageError` for a duration or audience that does not read, or a bad mirror.
        init(_ parsed: ParsedCommand) throws(CommandUsageError) {
            let duration = parsed.value("default-cache-duration") ?? "12h"
            guard let defaultCacheDuration = try? GoDuration(parsing: duration) else {
                throw parsed.usageError("--default-cache-duration \(duration) is not a duration such as 12h, 90m or 1h30m")
            }
            self.defaultCacheDuration = defaultCacheDuration
            serviceAccountAudience = parsed.value("service-account-audience")
            if let audience = serviceAccountAudience,
               audience.isEmpty || audience.contains(where: { $0.isWhitespace || $0.unicodeScalars.contains { $0.value < 0x20 } }) {
                throw parsed.usageError("--service-account-audience needs an audience without spaces or control characters, such as sts.amazonaws.com")
            }
            mirrors = try MirrorOptions(parsed)
        }

        /// Prints the config.
        func run() throws {
            // The kubelet runs <bin-dir>/<name>: the name is this executable's file name.
            let name = CommandLine.arguments.first.flatMap { $0.split(separator: "/").last.map(String.init) } ?? "ecr-credential-provider"
            var config = CredentialProviderConfig(name: name, defaultCacheDuration: defaultCacheDuration, serviceAccountAudience: serviceAccountAudience)
            config.mirrors = try mirrors.map(Composition())
            try StandardStreams.writeOutput(config.yaml)
        }
    }

    /// Prints the version.
    struct Version {
        /// `version`'s command line.
        static let description = CommandDescription(name: "version", abstract: "Print the version.")

        /// Prints the version line.
        func run() throws {
            try StandardStreams.writeOutput(ToolVersion.line(program: "ecr-credential-provider") + "\n")
        }
    }
}
