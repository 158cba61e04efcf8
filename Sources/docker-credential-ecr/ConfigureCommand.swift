// `docker-credential-ecr configure`: the helper set up in docker's or podman's config file.
import ECRCredentials

/// Parses `configure`'s options and prints what `ClientSetup` did.
struct ConfigureCommand {
    /// `configure`'s command line.
    static let description = CommandDescription(
        name: "configure",
        abstract: "Set the helper up in ~/.docker/config.json (or podman's auth.json).",
        discussion: """
        Adds a credHelpers entry naming this helper for each ECR registry, keeping every other key and its order, writing the file atomically with its mode and owner, and leaving the previous content in config.json.bak. Running it again changes nothing.

        Registries: the hosts given, every --account in every --region, --public for ECR Public, or --discover: the current AWS identity's account in every region your AWS configuration names, and ECR Public.
        """,
        parameters: [
            .argument("registries", value: "registry", help: "ECR registry hosts (a URL or an image reference works too).", repeating: true),
            .option("registry", value: "host", help: "An ECR registry host, the same as naming it as an argument.", repeating: true),
            .option("account", value: "id", help: "An AWS account id; combined with every --region.", repeating: true),
            .option("region", value: "region", help: "An AWS region; combined with every --account (and --discover).", repeating: true),
            .flag("public", help: "Add ECR Public (public.ecr.aws)."),
            .flag("discover", help: "Add the current AWS identity's registry in every configured region, and ECR Public (calls sts:GetCallerIdentity)."),
            .flag("creds-store", help: "Make the helper the credsStore: docker asks it for every registry without a credHelpers entry."),
            .flag("podman", help: "Change podman's auth.json ($REGISTRY_AUTH_FILE or ~/.config/containers/auth.json) instead of docker's config.json."),
            .flag("dry-run", help: "Print the change and the resulting file; write nothing."),
            .flag("remove", help: "Remove this helper's entries (those given, or all) and its credsStore."),
        ])

    /// What `ClientSetup` is asked to do.
    var options = ClientSetup.Options()

    /// Reads the parsed command line.
    /// - Throws: `CommandUsageError` for `--account` without `--region`, or `--remove` with what it does not take.
    init(_ parsed: ParsedCommand) throws(CommandUsageError) {
        options.hosts = parsed.values("registries") + parsed.values("registry")
        options.accounts = parsed.values("account")
        options.regions = parsed.values("region")
        options.publicRegistry = parsed.flag("public")
        options.discover = parsed.flag("discover")
        options.credsStore = parsed.flag("creds-store")
        options.podman = parsed.flag("podman")
        options.dryRun = parsed.flag("dry-run")
        options.remove = parsed.flag("remove")
        if !options.accounts.isEmpty && options.regions.isEmpty {
            throw parsed.usageError("--account needs at least one --region")
        }
        if options.remove && (options.discover || options.publicRegistry || !options.accounts.isEmpty) {
            throw parsed.usageError("--remove takes registry hosts (or nothing, for all of this helper's entries), not --discover, --public or --account")
        }
    }

    /// Sets the helper up and prints what changed.
    func run() throws {
        let composition = Composition()
        let setup = ClientSetup(environment: composition.environment, transport: composition.transport, diagnostics: composition.diagnostics)
        do {
            try StandardStreams.writeOutput(try setup.run(options))
        } catch {
            Diagnostics(level: .warning, program: "docker-credential-ecr configure").warning("\(error)")
            throw CommandFailure.failure
        }
    }
}
