// `docker-credential-ecr login` and `logout`: the token cache, warmed ahead of a pull or cleared.
import ArgumentParser
import ECRCredentials

/// The settings and commands both subcommands start from.
private func cacheCommands() throws -> TokenCacheCommands {
    let environment = Environment.current()
    let configuration: HelperConfiguration
    do {
        configuration = try HelperConfiguration(environment: environment)
    } catch {
        Diagnostics(level: .warning).warning("\(error)")
        throw ExitCode.failure
    }
    return TokenCacheCommands(configuration: configuration, environment: environment,
                              transport: CurlTransport(caBundle: environment["AWS_CA_BUNDLE"], userAgent: "docker-credential-ecr/\(ToolVersion.number)"),
                              diagnostics: Diagnostics(environment: environment))
}

/// Fetches tokens into the cache and prints their expiry.
struct LoginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Fetch tokens for ECR registries into the cache and print when they expire.",
        discussion: "Uses the same AWS identity, cache and fallback as `get`. Exit status 1 when any registry got no token; the line for it says why.")

    @Argument(help: ArgumentHelp("ECR registry hosts (a URL or an image reference works too).", valueName: "registry"))
    var registries: [String]

    func run() throws {
        let results = try cacheCommands().login(registries)
        try StandardStreams.writeOutput(TokenCacheCommands.report(results))
        if results.contains(where: { $0.token == nil }) { throw ExitCode.failure }
    }
}

/// Removes cached tokens (and, if asked, stored logins).
struct LogoutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout",
        abstract: "Remove cached tokens: of the registries given, or with --all of every registry.",
        discussion: "Logins kept by `store` (docker login) stay unless --logins is given.")

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
        let commands = try cacheCommands()
        do {
            let removed = try commands.logout(registries, logins: logins)
            try StandardStreams.writeOutput("removed \(removed) cached \(removed == 1 ? "entry" : "entries")\n")
        } catch {
            Diagnostics(level: .warning, program: "docker-credential-ecr logout").warning("\(error)")
            throw ExitCode.failure
        }
    }
}
