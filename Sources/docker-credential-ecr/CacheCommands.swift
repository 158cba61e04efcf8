// `docker-credential-ecr login` and `logout`: the token cache, warmed ahead of a pull or cleared.
import ArgumentParser
import ECRCredentials

/// Fetches tokens into the cache and prints their expiry.
struct LoginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Fetch tokens for ECR registries into the cache and print when they expire.",
        discussion: "Uses the same AWS identity, cache and fallback as `get`. Exit status 1 when any registry got no token; the line for it says why.")

    @Argument(help: ArgumentHelp("ECR registry hosts (a URL or an image reference works too).", valueName: "registry"))
    var registries: [String]

    func run() throws {
        try run(with: Composition())
    }

    func run(with composition: Composition) throws {
        let results = TokenCacheCommands(try composition.context(program: "docker-credential-ecr")).login(registries)
        try StandardStreams.writeOutput(TokenCacheCommands.report(results))
        if results.contains(where: { $0.token == nil }) { throw ExitCode.failure }
    }
}

/// Removes cached tokens (and, if asked, stored logins).
struct LogoutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout",
        abstract: "Remove cached tokens: of the registries given, or with --all of every registry.",
        discussion: "Logins kept by `store` (docker login) stay unless --logins is given. A `get` still fetching a token of those "
            + "registries is waited for (up to 30 s in all), so its token is removed too. Exit status 1, after removing the rest, "
            + "when one is still fetching then or the keyring is out of reach.")

    @Argument(help: ArgumentHelp("Registry hosts.", valueName: "registry"))
    var registries: [String] = []

    @Flag(help: "Every registry.")
    var all = false

    @Flag(help: "Also remove the logins `store` kept (what docker login handed over).")
    var logins = false

    func validate() throws {
        if all == !registries.isEmpty {
            throw ValidationError(all ? "--all takes no registries" : "name the registries, or use --all")
        }
    }

    func run() throws {
        try run(with: Composition())
    }

    func run(with composition: Composition) throws {
        let commands = TokenCacheCommands(try composition.context(program: "docker-credential-ecr"))
        do {
            let removed = try commands.logout(registries, logins: logins)
            try StandardStreams.writeOutput("removed \(removed) cached \(removed == 1 ? "entry" : "entries")\n")
        } catch {
            Diagnostics(level: .warning, program: "docker-credential-ecr logout").warning("\(error)")
            throw ExitCode.failure
        }
    }
}
