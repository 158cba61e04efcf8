// `docker-credential-ecr configure`: the helper set up in docker's or podman's config file.
import ArgumentParser
import ECRCredentials

/// Parses `configure`'s options and prints what `ClientSetup` did.
struct ConfigureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "configure",
        abstract: "Set the helper up in ~/.docker/config.json (or podman's auth.json).",
        discussion: """
        Adds a credHelpers entry naming this helper for each ECR registry, keeping every other key and its order, writing the file atomically with its mode and owner, and leaving the previous content in config.json.bak. Running it again changes nothing.

        Registries: the hosts given, every --account in every --region, --public for ECR Public, or --discover: the current AWS identity's account in every region your AWS configuration names, and ECR Public.
        """)

    @Argument(help: ArgumentHelp("ECR registry hosts (a URL or an image reference works too).", valueName: "registry"))
    var registries: [String] = []

    @Option(name: .customLong("registry"), help: ArgumentHelp("An ECR registry host, the same as naming it as an argument.", valueName: "host"))
    var namedRegistries: [String] = []

    @Option(name: .customLong("account"), help: ArgumentHelp("An AWS account id; combined with every --region.", valueName: "id"))
    var accounts: [String] = []

    @Option(name: .customLong("region"), help: ArgumentHelp("An AWS region; combined with every --account (and --discover).", valueName: "region"))
    var regions: [String] = []

    @Flag(name: .customLong("public"), help: "Add ECR Public (public.ecr.aws).")
    var publicRegistry = false

    @Flag(help: "Add the current AWS identity's registry in every configured region, and ECR Public (calls sts:GetCallerIdentity).")
    var discover = false

    @Flag(help: "Make the helper the credsStore: docker asks it for every registry without a credHelpers entry.")
    var credsStore = false

    @Flag(help: "Change podman's auth.json ($REGISTRY_AUTH_FILE or ~/.config/containers/auth.json) instead of docker's config.json.")
    var podman = false

    @Flag(help: "Print the change and the resulting file; write nothing.")
    var dryRun = false

    @Flag(help: "Remove this helper's entries (those given, or all) and its credsStore.")
    var remove = false

    func validate() throws {
        if !accounts.isEmpty && regions.isEmpty {
            throw ValidationError("--account needs at least one --region")
        }
        if remove && (discover || publicRegistry || !accounts.isEmpty) {
            throw ValidationError("--remove takes registry hosts (or nothing, for all of this helper's entries), not --discover, --public or --account")
        }
    }

    func run() throws {
        var options = ClientSetup.Options()
        options.hosts = registries + namedRegistries
        options.accounts = accounts
        options.regions = regions
        options.publicRegistry = publicRegistry
        options.discover = discover
        options.credsStore = credsStore
        options.podman = podman
        options.dryRun = dryRun
        options.remove = remove
        let composition = Composition()
        let setup = ClientSetup(environment: composition.environment, transport: composition.transport, diagnostics: composition.diagnostics)
        do {
            try StandardStreams.writeOutput(try setup.run(options))
        } catch {
            Diagnostics(level: .warning, program: "docker-credential-ecr configure").warning("\(error)")
            throw ExitCode.failure
        }
    }
}
