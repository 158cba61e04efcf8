// The human-facing command line of the kubelet plugin: help, version and `config`.
import ArgumentParser
import ECRCredentials

/// `ecr-credential-provider --help`, `version`, `config`.
struct ProviderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ecr-credential-provider",
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
        version: ToolVersion.line(program: "ecr-credential-provider"),
        subcommands: [Config.self, ContainerdHostsCommand.self, DoctorCommand.self, Version.self]
    )

    /// Runs a subcommand, or `--help`/`--version`, with the parser's messages and exit codes;
    /// a mistyped argument it quotes back reaches the terminal without control characters.
    static func run(_ arguments: [String]) -> Never {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            exit(withError: nil)
        } catch {
            if exitCode(for: error) == .success { exit(withError: error) }
            let message = fullMessage(for: error)
            if !message.isEmpty { Diagnostics.standardError(TerminalText.printableLines(message) + "\n") }
            exit(withError: ExitCode(exitCode(for: error).rawValue))
        }
    }

    /// Prints a complete CredentialProviderConfig.
    struct Config: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the kubelet's CredentialProviderConfig (YAML) for this plugin.",
            discussion: "`ecr-credential-provider config > /etc/kubernetes/image-credential-provider-config.yaml` is the whole configuration.")

        @Option(help: ArgumentHelp("Ask the kubelet for service-account tokens of this audience (Kubernetes 1.34+), so that pods whose service account has the eks.amazonaws.com/ecr-role-arn annotation pull as that role.",
                                   valueName: "audience"))
        var serviceAccountAudience: String?

        @Option(help: ArgumentHelp("How long the kubelet keeps credentials when a response names no duration (Go syntax: 12h, 90m).",
                                   valueName: "duration"))
        var defaultCacheDuration = "12h"

        @OptionGroup var mirrors: MirrorOptions

        func validate() throws {
            guard (try? GoDuration(parsing: defaultCacheDuration)) != nil else {
                throw ValidationError("--default-cache-duration \(defaultCacheDuration) is not a duration such as 12h, 90m or 1h30m")
            }
            if let audience = serviceAccountAudience,
               audience.isEmpty || audience.contains(where: { $0.isWhitespace || $0.unicodeScalars.contains { $0.value < 0x20 } }) {
                throw ValidationError("--service-account-audience needs an audience without spaces or control characters, such as sts.amazonaws.com")
            }
        }

        func run() throws {
            let duration = try GoDuration(parsing: defaultCacheDuration)
            // The kubelet runs <bin-dir>/<name>: the name is this executable's file name.
            let name = CommandLine.arguments.first.flatMap { $0.split(separator: "/").last.map(String.init) } ?? "ecr-credential-provider"
            var config = CredentialProviderConfig(name: name, defaultCacheDuration: duration, serviceAccountAudience: serviceAccountAudience)
            config.mirrors = try mirrors.map(Composition())
            try StandardStreams.writeOutput(config.yaml)
        }
    }

    /// Prints the version.
    struct Version: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the version.")

        func run() throws {
            try StandardStreams.writeOutput(ToolVersion.line(program: "ecr-credential-provider") + "\n")
        }
    }
}
