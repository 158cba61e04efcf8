// One plugin invocation: a CredentialProviderRequest on stdin, the response on stdout.
import ECRCredentials

/// The process side of the kubelet plugin.
enum PluginRun {
    /// Reads the request, answers it, writes the response; returns the exit status. Only the
    /// response ever goes to stdout; failures go to stderr (the kubelet logs it), exit status 1.
    /// A bad mirror mapping (in `arguments` or the config file) fails every request, before any is read.
    static func run(_ arguments: PluginArguments) -> Int32 {
        let composition = Composition()
        let diagnostics = composition.diagnostics
        do {
            let (settings, cache) = try CredentialProviderPlugin.nodeSettings(environment: composition.environment, diagnostics: diagnostics)
            let mirrors = try arguments.mirrorMap(config: settings.toolConfig)
            let request = try CredentialProviderRequest(json: try StandardStreams.readInput())
            let plugin = CredentialProviderPlugin(service: composition.tokenService(settings: settings, cache: cache),
                                                  environment: composition.environment, clock: composition.clock,
                                                  diagnostics: diagnostics, mirrors: mirrors)
            try StandardStreams.writeOutput(try plugin.answer(request).json)
            return 0
        } catch {
            diagnostics.warning("\(error)")
            return 1
        }
    }
}
