// ECR DescribePullThroughCacheRules: an account's pull-through cache rules, as mirrors.

/// One pull-through cache rule: images of `upstreamRegistryURL` are cached under `ecrRepositoryPrefix`.
package struct PullThroughCacheRule: Sendable, Equatable {
    /// The repository prefix in the ECR registry (`docker-hub`; `ROOT` for none).
    package var ecrRepositoryPrefix: String
    /// The upstream registry (`registry-1.docker.io`, `quay.io`, `myregistry.azurecr.io`, an ECR host).
    package var upstreamRegistryURL: String

    package init(ecrRepositoryPrefix: String, upstreamRegistryURL: String) {
        self.ecrRepositoryPrefix = ecrRepositoryPrefix
        self.upstreamRegistryURL = upstreamRegistryURL
    }

    /// The host images of the upstream name: `docker.io` for Docker Hub's `registry-1.docker.io`,
    /// the URL's host for the others (`public.ecr.aws`, `quay.io`, `registry.k8s.io`, `ghcr.io`,
    /// `registry.gitlab.com`, `NAME.azurecr.io`, ECR hosts of ECR-to-ECR rules).
    package var upstreamHost: String {
        var host = Substring(upstreamRegistryURL)
        if let scheme = host.firstRange(ofText: "://") { host = host[scheme.upperBound...] }
        host = host.prefix { $0 != "/" }
        return Mirror.canonicalUpstream(host.lowercased())
    }

    /// The mirror this rule makes of `registry`.
    /// - Throws: `Mirror.InvalidMapping` for a rule that is not a usable mapping.
    package func mirror(in registry: ECRRegistry) throws -> Mirror {
        let origin = "pull-through cache rule of \(registry.host)"
        guard Self.isSupportedUpstream(upstreamHost) else {
            throw Mirror.InvalidMapping(mapping: "\(ecrRepositoryPrefix) -> \(upstreamRegistryURL)", origin: origin,
                                        reason: "\(TerminalText.printable(upstreamHost, limit: 200)) is not an upstream ECR caches "
                                            + "(Docker Hub, ECR Public, Quay, registry.k8s.io, GitHub, GitLab, Azure, Chainguard, ECR); skipped")
        }
        return try Mirror(upstream: upstreamHost, target: "\(registry.host)/\(ecrRepositoryPrefix)", origin: origin)
    }

    /// The upstream registries ECR's pull-through cache supports, by the host images name.
    static let supportedUpstreams: Set<String> = ["docker.io", "public.ecr.aws", "quay.io", "registry.k8s.io", "ghcr.io",
                                                  "registry.gitlab.com", "cgr.dev"]

    /// Whether ECR can cache `host`: one of `supportedUpstreams`, an Azure registry
    /// (`NAME.azurecr.io`) or an ECR private registry (ECR-to-ECR rules).
    static func isSupportedUpstream(_ host: String) -> Bool {
        if supportedUpstreams.contains(host) { return true }
        if host.hasSuffix(".azurecr.io"), host.count > ".azurecr.io".count, !host.dropLast(".azurecr.io".count).contains(".") { return true }
        return ECRRegistry(host: host)?.accountID != nil
    }
}

extension ECRClient {
    /// The most pages of rules read (at 1000 rules a page, far above ECR's quota of rules).
    static let maximumRulePages = 50

    /// Calls DescribePullThroughCacheRules for the registry's account, following `nextToken`.
    /// - Throws: `AWSServiceError` (naming `ecr:DescribePullThroughCacheRules` when denied),
    ///   `HTTPTransportError`, `MalformedReply`.
    package func pullThroughCacheRules(for registry: ECRRegistry, credentials: AWSCredentials) throws -> [PullThroughCacheRule] {
        struct Reply: Decodable {
            struct Rule: Decodable {
                var ecrRepositoryPrefix: String
                var upstreamRegistryUrl: String
            }
            var pullThroughCacheRules: [Rule]?
            var nextToken: String?
        }
        let operation = "DescribePullThroughCacheRules"
        var rules: [PullThroughCacheRule] = []
        var nextToken: String?
        var seenTokens: Set<String> = []
        for _ in 0..<Self.maximumRulePages {
            var body = "{\"registryId\":\(JSONText.quote(registry.accountID ?? "")),\"maxResults\":1000"
            if let nextToken { body += ",\"nextToken\":\(JSONText.quote(nextToken))" }
            body += "}"
            let request = HTTPRequest(
                method: "POST", endpoint: try endpoint(for: registry),
                headers: [HTTPHeader("Content-Type", "application/x-amz-json-1.1"),
                          HTTPHeader("X-Amz-Target", "AmazonEC2ContainerRegistry_V20150921.\(operation)")],
                body: Array(body.utf8))
            let response: HTTPResponse
            do {
                response = try sender.send(request, signer: SigV4Signer(service: "ecr", region: registry.region),
                                           credentials: credentials, service: "ECR", operation: operation)
            } catch var error as AWSServiceError where error.code == "AccessDeniedException" || error.code == "AccessDenied" {
                let principal = Self.principal(in: error.message).map { " for \($0)" } ?? ""
                error.advice = "ecr:DescribePullThroughCacheRules was denied\(principal); allow it to whoever runs "
                    + "`config --pull-through-cache` (the node role needs it only if the node runs it), "
                    + "or give the mirrors by hand with --mirror UPSTREAM=ECR_HOST/PREFIX"
                throw error
            }
            let reply: Reply
            do {
                reply = try JSONInput.decode(Reply.self, from: response.body)
            } catch {
                throw MalformedReply(service: "ECR", reason: "\(operation): not the expected JSON")
            }
            rules += (reply.pullThroughCacheRules ?? []).map {
                PullThroughCacheRule(ecrRepositoryPrefix: $0.ecrRepositoryPrefix, upstreamRegistryURL: $0.upstreamRegistryUrl)
            }
            guard let token = reply.nextToken, !token.isEmpty else { return rules }
            guard seenTokens.insert(token).inserted else {
                throw MalformedReply(service: "ECR", reason: "\(operation): nextToken repeats")
            }
            nextToken = token
        }
        throw MalformedReply(service: "ECR", reason: "\(operation): more than \(Self.maximumRulePages) pages")
    }
}

extension TokenService {
    /// The pull-through cache rules of `registry`'s account, read with the identity its tokens are
    /// fetched with (the tool config file's rules, else the default chain).
    /// - Throws: what resolving the identity or `ECRClient.pullThroughCacheRules` throws.
    package func pullThroughCacheRules(of registry: ECRRegistry) throws -> [PullThroughCacheRule] {
        if let problem = settings.toolConfigError { throw problem }
        let context = credentialContext(for: registry)
        let resolution = try RegistryCredentialResolver(context: context, settings: settings.toolConfig).resolve(for: registry)
        let client = ECRClient(sender: context.sender, endpoints: context.endpoints(profile: resolution.profile))
        return try client.pullThroughCacheRules(for: registry, credentials: try resolution.provider.credentials())
    }
}

extension MirrorMap {
    /// Adds a mirror for each of `registry`'s pull-through cache rules whose upstream has none
    /// yet; returns why the others were left out, one line each.
    package mutating func add(rules: [PullThroughCacheRule], of registry: ECRRegistry) -> [String] {
        var notes: [String] = []
        for rule in rules {
            do {
                try add(try rule.mirror(in: registry))
            } catch {
                notes.append("left out the rule \(TerminalText.printable(rule.ecrRepositoryPrefix, limit: 100)) -> "
                             + "\(TerminalText.printable(rule.upstreamRegistryURL, limit: 100)): \(error)")
            }
        }
        return notes
    }
}
