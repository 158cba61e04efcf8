// The arguments the kubelet runs the plugin with: the provider's `args`.

/// What the kubelet passes from the provider's `args`: optionally `get-credentials`, and
/// `--mirror UPSTREAM=ECR_HOST/PREFIX` (or `--mirror=...`) any number of times.
package struct PluginArguments: Sendable, Equatable {
    /// The `--mirror` values, in order.
    package var mirrors: [String]

    /// Creates arguments with these `--mirror` values.
    package init(mirrors: [String] = []) {
        self.mirrors = mirrors
    }

    /// Reads `arguments` as a kubelet invocation; nil when they are something else (a command
    /// for people, such as `config` or `--help`), which the caller hands to its argument parser.
    package init?(_ arguments: [String]) {
        var mirrors: [String] = []
        var rest = arguments[...]
        if rest.first == "get-credentials" { rest = rest.dropFirst() }
        while let argument = rest.popFirst() {
            if argument == "--mirror", let value = rest.popFirst() {
                mirrors.append(value)
            } else if argument.hasPrefix("--mirror=") {
                mirrors.append(String(argument.dropFirst("--mirror=".count)))
            } else {
                return nil
            }
        }
        self.init(mirrors: mirrors)
    }

    /// The mirrors of the arguments and of the tool config file's `[mirror]` sections.
    /// - Throws: `Mirror.InvalidMapping` for a bad mapping, or an upstream given twice.
    package func mirrorMap(config: ToolConfigFile?) throws -> MirrorMap {
        var map = try MirrorMap(arguments: mirrors)
        if let config { try map.merge(config.mirrors) }
        return map
    }
}
