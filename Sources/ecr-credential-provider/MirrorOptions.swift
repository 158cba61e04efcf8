// The mirror options `config` and `containerd-hosts` share: --mirror and --pull-through-cache.
import ArgumentParser
import ECRCredentials

/// `--mirror UPSTREAM=ECR_HOST/PREFIX` (by hand) and `--pull-through-cache ECR_HOST` (read from the account's rules).
struct MirrorOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Pull UPSTREAM's images (docker.io/library/nginx) through an ECR registry and repository prefix, such as docker.io=123456789012.dkr.ecr.us-east-1.amazonaws.com/docker-hub. Repeatable.",
                               valueName: "upstream=ecr-host/prefix"))
    var mirror: [String] = []

    @Option(help: ArgumentHelp("Read the pull-through cache rules of this ECR registry (ecr:DescribePullThroughCacheRules, with the identity its tokens are fetched with) and add a mirror for each. Repeatable.",
                               valueName: "ecr-host"))
    var pullThroughCache: [String] = []

    func validate() throws {
        do {
            _ = try MirrorMap(arguments: mirror)
        } catch {
            throw ValidationError("\(error)")
        }
        for host in pullThroughCache where ECRRegistry(host: host.lowercased())?.accountID == nil {
            throw ValidationError("--pull-through-cache \(host) is not an Amazon ECR private registry (ACCOUNT.dkr.ecr.REGION.amazonaws.com)")
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
