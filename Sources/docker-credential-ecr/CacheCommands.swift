// `docker-credential-ecr login` and `logout`: the token cache, warmed ahead of a pull or cleared.
import ECRCredentials

/// Fetches tokens into the cache and prints their expiry.
struct LoginCommand {
    /// `login`'s command line.
    static let description = CommandDescription(
        name: "login",
        abstract: "Fetch tokens for ECR registries into the cache and print when they expire.",
        discussion: "Uses the same AWS identity, cache and fallback as `get`. Exit status 1 when any registry got no token; the line for it says why.",
        parameters: [
            .argument("registries", value: "registry", help: "ECR registry hosts (a URL or an image reference works too).",
                      repeating: true, required: true),
        ])

    /// The registries to fetch tokens for.
    var registries: [String]

    /// Reads the parsed command line.
    init(_ parsed: ParsedCommand) {
        registries = parsed.values("registries")
    }

    /// Fetches, prints, and fails when any registry got no token.
    func run() throws {
        try run(with: Composition())
    }

    /// The same, on `composition`'s parts.
    func run(with composition: Composition) throws {
        let results = TokenCacheCommands(try composition.context(program: "docker-credential-ecr")).login(registries)
        try StandardStreams.writeOutput(TokenCacheCommands.report(results))
        if results.contains(where: { $0.token == nil }) { throw CommandFailure.failure }
    }
}

/// Removes cached tokens (and, if asked, stored logins).
struct LogoutCommand {
    /// `logout`'s command line.
    static let description = CommandDescription(
        name: "logout",
        abstract: "Remove cached tokens: of the registries given, or with --all of every registry.",
        discussion: "Logins kept by `store` (docker login) stay unless --logins is given. A `get` still fetching a token of those "
            + "registries is waited for (up to 30 s in all), so its token is removed too. Exit status 1, after removing the rest, "
            + "when one is still fetching then or the keyring is out of reach.",
        parameters: [
            .argument("registries", value: "registry", help: "Registry hosts.", repeating: true),
            .flag("all", help: "Every registry."),
            .flag("logins", help: "Also remove the logins `store` kept (what docker login handed over)."),
        ])

    /// The registries whose tokens go; empty with `all`.
    var registries: [String]
    /// Every registry.
    var all: Bool
    /// Whether the logins `store` kept go too.
    var logins: Bool

    /// Reads the parsed command line: registries, or `--all`.
    /// - Throws: `CommandUsageError` for both or neither.
    init(_ parsed: ParsedCommand) throws(CommandUsageError) {
        registries = parsed.values("registries")
        all = parsed.flag("all")
        logins = parsed.flag("logins")
        if all == !registries.isEmpty {
            throw parsed.usageError(all ? "--all takes no registries" : "name the registries, or use --all")
        }
    }

    /// Removes the entries and says how many.
    func run() throws {
        try run(with: Composition())
    }

    /// The same, on `composition`'s parts.
    func run(with composition: Composition) throws {
        let commands = TokenCacheCommands(try composition.context(program: "docker-credential-ecr"))
        do {
            let removed = try commands.logout(registries, logins: logins)
            try StandardStreams.writeOutput("removed \(removed) cached \(removed == 1 ? "entry" : "entries")\n")
        } catch {
            Diagnostics(level: .warning, program: "docker-credential-ecr logout").warning("\(error)")
            throw CommandFailure.failure
        }
    }
}
