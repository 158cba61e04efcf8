// The human-facing command line: help, version and usage errors.
import ArgumentParser
import ECRCredentials

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
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

        For an ECR registry (123456789012.dkr.ecr.REGION.amazonaws.com, public.ecr.aws, ...) `get` returns an ECR authorization token fetched with your AWS credentials and cached (in the Secret Service keyring, else a private file) until half its 12-hour life has passed. Set it up in ~/.docker/config.json:

          { "credHelpers": { "123456789012.dkr.ecr.us-east-1.amazonaws.com": "ecr" } }

        See docker-credential-ecr(1) for every setting.
        """,
        version: ToolVersion.line
    )

    @Argument(help: ArgumentHelp("One of get, store, erase, list, version.", valueName: "action"))
    var action: String?

    @Flag(name: .customShort("v"), help: "Show the version.")
    var shortVersion = false

    func validate() throws {
        if shortVersion { throw CleanExit.message(ToolVersion.line) }
        guard let action else { throw ValidationError("an action is required") }
        throw ValidationError("unknown action \"\(action)\"")
    }

    /// The one line helpers print for a wrong command line, as docker-credential-helpers do.
    static let usage = "Usage: docker-credential-ecr <get|store|erase|list|version>"

    /// Parses `arguments` for `--help` and `--version`; anything else is a usage error: one line
    /// on stdout and exit status 1, as the helper protocol asks.
    static func main(_ arguments: [String]) -> Never {
        let words = arguments.filter { !$0.hasPrefix("-") }
        if words.count > 1 {
            print("docker-credential-ecr: expected one action, got \(words.count) arguments. \(usage)")
            Glibc.exit(1)
        }
        do {
            // Only `--help` gets past validate(); the parser then prints the help.
            throw CleanExit.helpRequest(try parseAsRoot(arguments))
        } catch {
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            let problem = message(for: error)
            print(problem.hasPrefix("an action is required") ? usage : "docker-credential-ecr: \(problem). \(usage)")
            Glibc.exit(1)
        }
    }
}
