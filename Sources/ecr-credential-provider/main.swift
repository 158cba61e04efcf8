// ecr-credential-provider: the kubelet image credential provider plugin for Amazon ECR.
import ECRCredentials

#if canImport(Glibc)
import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
// Every command exits 1 when its output could not be written, to a full disk or a closed pipe.
StandardStreams.reportBrokenPipes()
StandardStreams.failWhenBufferedOutputIsLost()

// The kubelet runs the plugin with no arguments, or with the configured `args` (some set-ups
// pass `get-credentials`; mirrors come as `--mirror UPSTREAM=ECR_HOST/PREFIX`): that path skips
// the argument parser; everything else is for people.
if let pluginArguments = PluginArguments(arguments) {
    exit(PluginRun.run(pluginArguments))
}
ProviderCommand.run(arguments)
