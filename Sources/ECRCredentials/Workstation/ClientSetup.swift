// `docker-credential-ecr configure`: one command from nothing to a working `docker pull`.

/// Sets the helper up in docker's `config.json` or podman's `auth.json` for a list of ECR
/// registries (named, by account and region, or discovered from the current AWS identity), or as
/// the `credsStore`; undoes it with `remove`; shows it without writing with `dryRun`.
package struct ClientSetup: Sendable {
    /// What the user asked for.
    package struct Options: Sendable {
        /// Registry hosts (or URLs, or image references).
        package var hosts: [String] = []
        /// Accounts, combined with every region.
        package var accounts: [String] = []
        /// Regions, combined with every account (and with the discovered account).
        package var regions: [String] = []
        /// Add ECR Public (`public.ecr.aws`).
        package var publicRegistry = false
        /// Add the current identity's account in every configured region, and ECR Public.
        package var discover = false
        /// Make the helper the `credsStore`.
        package var credsStore = false
        /// Change podman's `auth.json` instead of docker's `config.json`.
        package var podman = false
        /// Print the change; write nothing.
        package var dryRun = false
        /// Remove what `configure` adds.
        package var remove = false

        /// Creates empty options.
        package init() {}
    }

    /// Why nothing was set up.
    package struct PlanningFailed: Error, Sendable, CustomStringConvertible {
        /// What went wrong and what to do.
        package var reason: String
        /// The error underneath, when there is one.
        package var underlying: (any Error)?
        /// The reason.
        package var description: String { reason }
    }

    private let environment: Environment
    private let transport: any HTTPTransport
    private let diagnostics: Diagnostics

    /// Creates a set-up run; `transport` is used only by `discover`.
    package init(environment: Environment, transport: any HTTPTransport, diagnostics: Diagnostics = Diagnostics()) {
        self.environment = environment
        self.transport = transport
        self.diagnostics = diagnostics
    }

    /// Carries `options` out and returns the report for the user (lines ending in newlines).
    /// - Throws: `PlanningFailed`, `RegistryList.Invalid`, `ClientConfigFile.Problem`, `ClientConfigurator.Conflict`.
    package func run(_ options: Options) throws -> String {
        // --remove takes any registry (an entry may name this helper for a non-ECR host).
        var registries = try options.hosts.map { options.remove ? try Self.anyHost($0) : try RegistryList.host($0) }
        registries += try RegistryList.hosts(accounts: options.accounts, regions: options.regions)
        var report = ""
        if options.discover {
            let (identity, discovered) = try discover(regions: options.regions)
            report += "AWS identity \(identity.arn): account \(identity.account)\n"
            registries += discovered
        }
        if options.publicRegistry || options.discover { registries.append("public.ecr.aws") }
        var unique: [String] = []
        for host in registries where !unique.contains(host) { unique.append(host) }
        guard !unique.isEmpty || options.credsStore || options.remove else {
            throw PlanningFailed(reason: "name the registries to set up (HOST..., --account with --region, --public or --discover), or use --creds-store")
        }
        let kind: ClientConfigFile.Kind = options.podman ? .podman : .docker
        let path = ClientConfigFile.path(of: kind, environment: environment)
        // Root changing a user's file does it with that user's rights, so it writes nothing the
        // user could not (see FileSystemUser).
        if let user = try FileSystemUser.owner(ofPathTo: path) {
            return try user.run { try edit(path: path, kind: kind, registries: unique, options: options, report: report) }
        }
        return try edit(path: path, kind: kind, registries: unique, options: options, report: report)
    }

    /// Loads the file, applies the plan and writes it (or, for a dry run, shows what would change).
    private func edit(path: String, kind: ClientConfigFile.Kind, registries unique: [String], options: Options,
                      report initial: String) throws -> String {
        var report = initial
        return try ClientConfigFile.withLock(path: path) {
            let file = try ClientConfigFile(kind: kind, path: path)
            let plan = ClientConfigurator.Plan(registries: unique, credsStore: options.credsStore, remove: options.remove)
            let outcome = try ClientConfigurator.apply(plan, to: file.document, kind: kind)
            // Notes and changes quote the file (helper names, hosts) and paths come from the
            // environment: nothing of them that a terminal acts on is printed.
            let path = TerminalText.printable(file.path)
            for note in outcome.notes { report += "note: \(TerminalText.printable(note))\n" }
            guard outcome.changed else {
                return report + "\(path): \(options.remove ? "nothing of this helper's to remove" : "already set up"); nothing changed\n"
            }
            if options.dryRun {
                report += "\(path) (dry run: nothing written):\n"
                report += outcome.changes.map { "  would \(TerminalText.printable($0))\n" }.joined()
                return report + "the file would read (secrets left out):\n" + TerminalText.escapingInJSON(Self.redacted(outcome.document).text)
            }
            let backup = try file.write(outcome.document) { try ClientConfigurator.apply(plan, to: $0, kind: kind).document }
            report += "\(path):\n" + outcome.changes.map { "  \(TerminalText.printable($0))\n" }.joined()
            if let backup { report += "the previous content is in \(TerminalText.printable(backup))\n" }
            return report
        }
    }

    /// `document` fit to print: the logins kept inline (`auths` entries' `auth`, `password`,
    /// `identitytoken`, `registrytoken`), every value of `HttpHeaders` (an `Authorization` header,
    /// or a custom one of any name, carries a credential) and the secrets of URLs, with or
    /// without a scheme (`SecretRedaction.url`), replaced by `<redacted>`.
    static func redacted(_ document: JSONDocument) -> JSONDocument {
        func walk(_ value: JSONDocument, secret: Bool) -> JSONDocument {
            switch value {
            case .object(let members):
                return .object(members.map { member in
                    let key = member.key.lowercased()
                    if ["auth", "password", "identitytoken", "registrytoken"].contains(key), member.value.stringValue != nil {
                        return (member.key, .string(SecretRedaction.marker))
                    }
                    return (member.key, walk(member.value, secret: secret || key == "httpheaders"))
                })
            case .array(let elements):
                return .array(elements.map { walk($0, secret: secret) })
            case .string(let text):
                return .string(secret ? SecretRedaction.marker : SecretRedaction.urls(in: text))
            case .number, .bool, .null:
                return secret ? .string(SecretRedaction.marker) : value
            }
        }
        return walk(document, secret: false)
    }

    /// The `credHelpers` key of any registry address.
    static func anyHost(_ input: String) throws -> String {
        guard let address = try? RegistryAddress(parsing: input) else {
            throw RegistryList.Invalid(input: input, reason: "is not a registry address")
        }
        return CredentialHelper.registryKey(address)
    }

    /// The current identity's account, and its registry in every region given or configured.
    private func discover(regions given: [String]) throws -> (STSClient.CallerIdentity, [String]) {
        let loader = ConfigurationLoader(environment: environment)
        let configuration = try? loader.configuration()
        let regions = given.isEmpty ? RegistryList.configuredRegions(environment: environment, configuration: configuration) : given
        guard !regions.isEmpty else {
            throw PlanningFailed(reason: "--discover found no region in AWS_REGION, AWS_DEFAULT_REGION or the AWS config files; add --region REGION")
        }
        let context = CredentialContext(environment: environment, configuration: loader,
                                        sender: AWSRequestSender(transport: transport, diagnostics: diagnostics),
                                        fallbackRegion: regions[0])
        let identity: STSClient.CallerIdentity
        do {
            let provider = try CredentialChain(context: context).provider()
            identity = try context.sts(profile: nil).callerIdentity(credentials: try provider.credentials())
        } catch {
            throw PlanningFailed(reason: "--discover could not tell who you are: \(error)", underlying: error)
        }
        return (identity, try RegistryList.hosts(accounts: [identity.account], regions: regions))
    }
}
