// The human-facing command line: help, version and usage errors.
import ECRCredentials

#if canImport(Glibc)
import Glibc
#endif

/// `docker-credential-ecr --help`, `--version`, the subcommands, and the usage error for anything unknown.
enum Command {
    /// The program's command line: its texts and subcommands.
    static let description = CommandDescription(
        name: "docker-credential-ecr",
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
        subcommands: [ConfigureCommand.description, DoctorCommand.description, LoginCommand.description, LogoutCommand.description],
        hasShortVersionFlag: true
    )

    /// The one line helpers print for a wrong command line, as docker-credential-helpers do.
    static let usage = "Usage: docker-credential-ecr <get|store|erase|list|version>"

    /// Runs a subcommand, or `--help`/`--version`; anything else is a usage error: one line on
    /// stdout and exit status 1, as the helper protocol asks. A subcommand's usage errors are
    /// said on stderr with its usage, exit status 64.
    static func main(_ arguments: [String]) -> Never {
        // `--generate-completion-script SHELL` takes a word.
        let completion = arguments.first?.hasPrefix("--generate-completion-script") == true
        let words = completion ? [] : arguments.filter { !$0.hasPrefix("-") }
        let subcommand = words.first.flatMap { description.subcommand(named: $0) }
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
        let runner = CommandRunner(parser: CommandParser(root: description, version: ToolVersion.line), program: "docker-credential-ecr")
        runner.main(arguments, rootError: { error in
            // The message is terminal-safe: the parser quotes what it was given that way.
            let message = error.message.hasSuffix("?") ? error.message : error.message + "."
            print("docker-credential-ecr: \(message) \(usage)")
            Glibc.exit(1)
        }) { parsed in
            switch parsed.subcommand {
            case "configure": try ConfigureCommand(parsed).run()
            case "doctor": try DoctorCommand(parsed).run()
            case "login": try LoginCommand(parsed).run()
            case "logout": try LogoutCommand(parsed).run()
            default: throw parsed.usageError("no such command")
            }
        }
    }
}
