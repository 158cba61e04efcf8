// ecr-credential-provider: the kubelet image credential provider plugin for Amazon ECR.
import ECRCredentials

#if canImport(Glibc)
import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
// Every command exits 1 when its output could not be written.
StandardStreams.failWhenBufferedOutputIsLost()

// The kubelet runs the plugin with no arguments, or with the configured `args` (some set-ups
// pass `get-credentials`): that path skips the argument parser; everything else is for people.
if arguments.isEmpty || arguments == ["get-credentials"] {
    exit(PluginRun.run())
}
ProviderCommand.main(arguments)
