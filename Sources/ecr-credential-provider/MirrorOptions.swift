// The mirror options `config` and `containerd-hosts` share: --mirror and --pull-through-cache.
import ECRCredentials

/// `--mirror UPSTREAM=ECR_HOST/PREFIX` (by hand) and `--pull-through-cache ECR_HOST` (read from the account's rules).
struct MirrorOptions {
    /// The two options, as `config` and `containerd-hosts` declare them.
    static let parameters: [CommandParameter] = [
        .option("mirror", value: "upstream=ecr-host/prefix",
                help: "Pull UPSTREAM's images (docker.io/library/nginx) through an ECR registry and repository prefix, such as docker.io=123456789012.dkr.ecr.us-east-1.amazonaws.com/docker-hub. Repeatable.",
                repeating: true),
        .option("pull-through-cache", value: "ecr-host",
                help: "Read the pull-through cache rules of this ECR registry (ecr:DescribePullThroughCacheRules, with the identity its tokens are fetched with) and add a mirror for each. Repeatable.",
                repeating: true),
    ]

    /// `--mirror` values, `UPSTREAM=ECR_HOST/PREFIX`.
    var mirror: [String]
    /// `--pull-through-cache` registries.
    var pullThroughCache: [String]

    /// Reads and checks the two options.
    /// - Throws: `CommandUsageError` for a mapping that does not read or a registry that is not a private ECR one.
    init(_ parsed: ParsedCommand) throws(CommandUsageError) {
        mirror = parsed.values("mirror")
        pullThroughCache = parsed.values("pull-through-cache")
        do {
            _ = try MirrorMap(arguments: mirror)
        } catch {
            throw parsed.usageError("\(error)")
        }
        for host in pullThroughCache where ECRRegistry(host: host.lowercased())?.accountID == nil {
            throw parsed.usageError("--pull-through-cache \(host) is not an Amazon ECR private registry (ACCOUNT.dkr.ecr.REGION.amazonaws.com)")
        }
    }

    /// The mirrors given by hand, then those of each registry's rules (an upstream given by hand keeps its mapping).
    func map(_ composition: Composition) throws -> MirrorMap {
        var map = try MirrorMap(arguments: mirror)
        guard !pullThroughCache.isEmpty else { return map }
        let diagnostics = composition.diagnostics
        let service = composition.tokenService(settings: try TokenSettings(environment: composition.environment), cache: .disabled)
        for host in pullThroughCache {
            guard let registry = ECRRegistry(host: host.lowercased()) else { continue }
            let rules = try service.pullThroughCacheRules(of: registry)
            for note in map.add(rules: rules, of: registry) { diagnostics.warning(note) }
            if rules.isEmpty { diagnostics.warning("\(registry.host) has no pull-through cache rules") }
        }
        return map
    }
}
