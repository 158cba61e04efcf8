// `ecr-credential-provider doctor`: the node's view of a pull, from the kubelet's config to the registry.
import ArgumentParser
import ECRCredentials

/// Prints `NodeDoctor`'s report, as text or JSON; exit status 1 when a check found a problem.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check what the kubelet does for an image, from its credential provider config to the registry.",
        discussion: """
        Reads the kubelet's credential provider config (a file, or a directory of .json files) with the kubelet's rules: strict fields, kubelet.config.k8s.io v1, v1beta1 or v1alpha1, plugin API versions this binary speaks, matchImages syntax, durations. Then: every provider's name is an executable file in the bin directory; which provider matches each IMAGE (none: the closest pattern); that provider run as the kubelet runs it (its args, this environment plus its env, a request of its apiVersion), its response decoded as strictly as the kubelet does; and the pull check with the password it answered, following --mirror mappings to the ECR repository. Exit status 1 when a check found a problem.

        --json prints {"ok":BOOL,"checks":[{"name","status","summary","details","hint"}]}: names config, bin-dir, then match, provider and pull for each image (pull with finding, step, httpStatus, errorCode and action, as the docker helper's doctor gives them for an image).
        """)

    @Option(help: ArgumentHelp("The kubelet's --image-credential-provider-config (a file or a directory).", valueName: "file"))
    var config: String

    @Option(help: ArgumentHelp("The kubelet's --image-credential-provider-bin-dir.", valueName: "directory"))
    var binDir: String

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Argument(help: ArgumentHelp("Images as pod specs name them.", valueName: "image"))
    var images: [String] = []

    func run() throws {
        let composition = Composition()
        let doctor = NodeDoctor(transport: composition.transport, timeouts: HTTPTimeouts(connect: 2, total: 5),
                                environment: composition.environment.variables)
        let report = doctor.run(configPath: config, binDirectory: binDir, images: images)
        try StandardStreams.writeOutput(json ? report.json : report.text)
        if !report.ok { throw ExitCode.failure }
    }
}
