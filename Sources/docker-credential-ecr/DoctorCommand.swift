// `docker-credential-ecr doctor`: why a pull from ECR is anonymous, in a few readable lines.
import ECRCredentials

/// Prints `Doctor`'s report, as text or JSON; exit status 1 when a check found a problem.
struct DoctorCommand {
    /// `doctor`'s command line.
    static let description = CommandDescription(
        name: "doctor",
        abstract: "Check everything between docker and an ECR token, and say what to fix.",
        discussion: """
        Checks docker's config file, the AWS credential source (and why earlier sources were passed over), the identity (sts:GetCallerIdentity), the cache backend and keyring, the cached entries, and a live token from ECR. With --image, a pull check follows: the registry itself is asked, with that token, for the image's manifest (and this platform's, for an index) and config blob, as a pull would; a refusal names the IAM action and the fix. Every problem comes with a hint. Exit status 1 when a check found a problem.

        --json prints {"ok":BOOL,"registry":HOST,"checks":[{"name","status","summary","details","hint"}]}: names registry, docker-config, credentials, identity, cache, token, pull; status ok, warning or problem; hint only where there is one. The pull check adds "finding" (pulls, token-refused, pull-only, repository-policy, pull-through, kms-key, other-action, no-repository, no-image, no-platform, tls, timeout, unreachable, unexpected), "step" (registry, manifest, platform-manifest, config-blob, download), "httpStatus", "errorCode" (ECR's, such as DENIED) and "action" (the IAM action denied), each null when there is none.
        """,
        parameters: [
            .argument("registry", value: "registry", help: "The ECR registry to check (default: the first one docker's config file names)."),
            .option("image", value: "image", help: "Also check that this image pulls, asking its registry with the token (default registry: the image's)."),
            .flag("json", help: "Print the report as JSON."),
        ])

    /// The registry to check, or nil for the first one docker's config file names.
    var registry: String?
    /// The image whose pull to check.
    var image: String?
    /// Whether the report is JSON.
    var json: Bool

    /// Reads the parsed command line.
    init(_ parsed: ParsedCommand) {
        registry = parsed.value("registry")
        image = parsed.value("image")
        json = parsed.flag("json")
    }

    /// Runs the checks and prints the report.
    func run() throws {
        try run(with: Composition())
    }

    /// The same, on `composition`'s parts.
    func run(with composition: Composition) throws {
        // The report is the output: no debug lines between its lines.
        let doctor = Doctor(try composition.context(program: "docker-credential-ecr doctor").with(diagnostics: Diagnostics(level: .quiet)))
        let report = doctor.run(registry: registry, image: image)
        try StandardStreams.writeOutput(json ? report.json : report.text)
        if !report.ok { throw CommandFailure.failure }
    }
}
