// The human-facing command line: help, version and usage errors.
import ArgumentParser
import ECRCredentials

#if canImport(Glibc)
import Glibc
#endif

/// `docker-credential-ecr --help`, `--version`, and the usage error for anything unknown.
struct Command: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docker-credential-ecr",
        abstract: "Amazon ECR credentials for docker, nerdctl, podman and skopeo.",
        discussion: """
        Docker and the other container tools run this helper with one action and talk to it over stdin and stdout (the docker credential helper protocol):

          get       read a registry URL, print {"ServerURL","Username","Secret"}
          store     read {"ServerURL","Username","Secret"} and keep it
          erase     read a registry URL and forget what is kept for it
          list      print the kept registries as {"URL":"user",...}
          version   print the version

        For an ECR registry (123456789012.dkr.ecr.REGION.amazonaws.com, public.ecr.aws, ...) `get` returns an ECR authorization token fetched with your AWS credentials and cached (in the Secret Service keyring, else a private file) until half its 12-hour life has passed. Set it up in ~/.docker/config.json with

          docker-credential-ecr configure 123456789012.dkr.ecr.us-east-1.amazonaws.com

        See docker-credential-ecr(1) for every setting.
        """,
        version: ToolVersion.line,
        subcommands: [ConfigureCommand.self, DoctorCommand.self, LoginCommand.self, LogoutCommand.self]
    )

    @Flag(name: .customShort("v"), help: "Show the version.")
    var shortVersion = false

    func validate() throws {
        if shortVersion { throw CleanExit.message(ToolVersion.line) }
    }

    /// The one line helpers print for a wrong command line, as docker-credential-helpers do.
    static let usage = "Usage: docker-credential-ecr <get|store|erase|list|version>"

    /// Runs a subcommand, or `--help`/`--version`; anything else is a usage error: one line on
    /// stdout and exit status 1, as the helper protocol asks.
    static func main(_ arguments: [String]) -> Never {
        // `--generate-completion-script SHELL` (and the parser's completion callbacks) take a word.
        let completion = arguments.contains { $0.hasPrefix("--generate-completion-script") || $0 == "---completion" }
        let words = completion ? [] : arguments.filter { !$0.hasPrefix("-") }
        let subcommand = words.first.flatMap { name in configuration.subcommands.first { $0._commandName == name } }
        if subcommand == nil, words.first != "help" {
            if let first = words.first {
                let problem = HelperAction(rawValue: first) != nil
                    ? "expected one action, got \(arguments.count) arguments" : "unknown action \"\(first)\""
                print("docker-credential-ecr: \(TerminalText.printable(problem)). \(usage)")
                Glibc.exit(1)
            }
            if arguments.isEmpty {
                print(usage)
                Glibc.exit(1)
            }
        }
        do {
            var command = try parseAsRoot(arguments)
            if command is Command {
                // Flags alone: only --help and --version mean something.
                throw CleanExit.helpRequest(command)
            }
            try command.run()
            Glibc.exit(0)
        } catch {
            if exitCode(for: error) == .success { exit(withError: error) }
            if subcommand != nil {
                // People run these: the parser's own messages and exit codes, without what a
                // terminal would act on in a mistyped argument it quotes.
                let message = fullMessage(for: error)
                if !message.isEmpty { Diagnostics.standardError(TerminalText.printableLines(message) + "\n") }
                Glibc.exit(exitCode(for: error).rawValue)
            }
            print("docker-credential-ecr: \(TerminalText.printable(message(for: error))). \(usage)")
            Glibc.exit(1)
        }
    }
}
