// The kubelet image credential provider: a thin front end on the token service.
#if canImport(Glibc)
import Glibc
#endif

/// Answers the kubelet's `CredentialProviderRequest` for an ECR image with the registry's token.
///
/// The node's identity (the full credential chain and the per-registry identity rules) fetches
/// the token, through the same `TokenService` as the docker helper: cache, single flight and
/// stale fallback included. When the request carries a service-account token and a role is named
/// (the service account's `eks.amazonaws.com/ecr-role-arn` annotation, else `AWS_ECR_ROLE_ARN`),
/// that role is assumed with the token instead, and its tokens are cached per role and service
/// account. The response keys the credentials by the image's registry, with a cache duration that
/// ends at the token's refresh point (40% to 60% of its life, fixed per node and registry, so a
/// fleet's kubelets do not ask again together); a stale token served because its refresh failed
/// gets half its remaining life (`0s` when it has none left).
///
/// An image of a mirrored upstream (`docker.io/library/nginx` with a `docker.io` mirror) is
/// answered with the token of the mirror's ECR registry, keyed by the upstream host: the kubelet
/// hands those credentials to containerd, which uses them for the mirror `hosts.toml` names.
package struct CredentialProviderPlugin: Sendable {
    /// The service-account annotation that names the role to pull as.
    package static let roleAnnotation = "eks.amazonaws.com/ecr-role-arn"

    /// Why no credentials were given for an image.
    package struct NoCredentials: Error, Sendable, CustomStringConvertible {
        /// The image, as requested.
        package var image: String
        /// What went wrong.
        package var reason: String
        /// The error underneath, when there is one.
        package var underlying: (any Error)?

        /// For example "123456789012.dkr.ecr.us-east-1.amazonaws.com/app: ECR GetAuthorizationToken failed: ...":
        /// one line, whatever the image or the reason held.
        package var description: String {
            "\(TerminalText.printable(image, limit: 100)): \(TerminalText.printable(reason, limit: 4000))"
        }
    }

    private let service: TokenService
    private let environment: Environment
    private let clock: any WallClock
    private let diagnostics: Diagnostics
    /// The upstream registries answered with an ECR registry's token.
    package let mirrors: MirrorMap

    /// Creates a plugin on `service`, answering the upstreams of `mirrors` too (default none).
    package init(service: TokenService, environment: Environment, clock: any WallClock = SystemClock(),
                diagnostics: Diagnostics = Diagnostics(program: "ecr-credential-provider"), mirrors: MirrorMap = .empty) {
        self.mirrors = mirrors
        self.service = service
        self.environment = environment
        self.clock = clock
        self.diagnostics = diagnostics
    }

    /// The response to `request`.
    /// - Throws: `NoCredentials` for an image that is not in ECR, or when no token could be had.
    package func answer(_ request: CredentialProviderRequest) throws -> CredentialProviderResponse {
        let (registry, authKey) = try self.registry(of: request.image)
        let identity = try self.identity(for: request, registry: registry)
        let token: IssuedToken
        do {
            token = try service.token(for: registry, identity: identity)
        } catch {
            throw NoCredentials(image: request.image, reason: "\(error)", underlying: error)
        }
        let now = clock.now().timeIntervalSince1970
        let remaining = token.remainingLifetime(at: now) ?? 0
        let untilRefresh = token.source == .staleFallback ? nil : service.refreshMoment(of: token).map { $0 - now }
        let duration = GoDuration(rounding: max(0, min(untilRefresh ?? remaining / 2, remaining)))
        diagnostics.debug("\(authKey): token from \(token.source), kubelet may cache it for \(duration)")
        return CredentialProviderResponse(apiVersion: request.apiVersion, cacheDuration: duration,
                                          auth: [(key: authKey, username: token.username, password: token.password)])
    }

    /// The node's identity, or the service account's role when the request names one.
    private func identity(for request: CredentialProviderRequest, registry: ECRRegistry) throws -> TokenService.Identity {
        guard let token = request.serviceAccountToken.map(ServiceAccountToken.init) else { return .configured }
        let annotated = request.serviceAccountAnnotations[Self.roleAnnotation].flatMap { $0.isEmpty ? nil : $0 }
        guard let roleARN = annotated ?? environment["AWS_ECR_ROLE_ARN"] else {
            diagnostics.debug("service-account token without \(Self.roleAnnotation) or AWS_ECR_ROLE_ARN: using the node's identity")
            return .configured
        }
        guard Self.isRoleARN(roleARN) else {
            throw NoCredentials(image: request.image, reason: "\(annotated != nil ? Self.roleAnnotation : "AWS_ECR_ROLE_ARN") is "
                          + "\"\(TerminalText.printable(roleARN, limit: 100))\", which is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
        }
        let context = service.credentialContext(for: registry)
        let options = STSClient.SessionOptions(sessionName: token.sessionName ?? context.defaultSessionName())
        let origin = annotated != nil ? "service account \(token.sessionName ?? "token")" : "AWS_ECR_ROLE_ARN"
        let provider = WebIdentityCredentialProvider(roleARN: roleARN, token: .value(token.value, owner: token.owner),
                                                     options: options, sts: context.sts(profile: nil), origin: origin)
        return .provider(provider, profile: nil)
    }

    /// Whether `text` is an IAM role ARN: `arn:PARTITION:iam::ACCOUNT:role/PATH/NAME`.
    package static func isRoleARN(_ text: String) -> Bool {
        let parts = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard text.utf8.count <= 2048, parts.count == 6, parts[0] == "arn", parts[2] == "iam", parts[3].isEmpty,
              AWSPartition.all.contains(where: { $0.id == parts[1] }),
              parts[4].count == 12, parts[4].allSatisfy({ $0.isASCII && $0.isNumber }), parts[5].hasPrefix("role/")
        else { return false }
        let name = parts[5].dropFirst("role/".count)
        return !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "+=,.@_/-".contains($0)) }
    }

    /// The ECR registry whose token answers `image`: its mirror's, when its registry is a mirrored
    /// upstream, else its own; and the auth key, the image's `host[:port]` either way.
    /// - Throws: `NoCredentials` when the image is neither mirrored nor in an ECR registry.
    package func registry(of image: String) throws -> (ECRRegistry, authKey: String) {
        if let address = try? RegistryAddress(parsing: image), let mirror = mirrors.mirror(for: address) {
            diagnostics.debug("\(address): mirrored by \(mirror.target) (\(mirror.origin))")
            return (mirror.registry, address.description)
        }
        do {
            return try Self.registry(of: image)
        } catch let failure as NoCredentials {
            // A config file that did not read may be where this upstream's mirror is.
            if let problem = service.settings.toolConfigError { throw NoCredentials(image: image, reason: "\(problem)", underlying: problem) }
            throw failure
        }
    }

    /// The ECR registry of `image` and the auth key the kubelet matches it with: the host, and
    /// the port when the image names one (the kubelet requires ports to match).
    /// - Throws: `NoCredentials` when the image is not in an ECR registry.
    package static func registry(of image: String) throws -> (ECRRegistry, authKey: String) {
        let address: RegistryAddress
        do {
            address = try RegistryAddress(parsing: image)
        } catch {
            throw NoCredentials(image: image, reason: "not an image reference (\(error))", underlying: error)
        }
        guard let registry = ECRRegistry(address: address) else {
            throw NoCredentials(image: image, reason: "\(TerminalText.printable(address.description, limit: 100)) is not an Amazon ECR "
                          + "registry (ACCOUNT.dkr.ecr.REGION.amazonaws.com, public.ecr.aws, ...) nor a mirrored upstream (--mirror); no credentials given")
        }
        return (registry, address.description)
    }

    /// Token settings for a node: the docker helper's settings (identity rules, `[cache]`), but
    /// never the keyring, a cache of its own (`$XDG_CACHE_HOME/ecr-credential-provider`, or
    /// `/var/cache/ecr-credential-provider` for root without `HOME`), and time limits that keep
    /// every failure well inside the kubelet's one-minute timeout.
    /// - Returns: the settings, and the cache: disabled when no private directory is writable.
    package static func nodeSettings(environment: Environment, diagnostics: Diagnostics) throws -> (TokenSettings, TokenCache) {
        var settings: TokenSettings
        do {
            settings = try TokenSettings(environment: environment)
        } catch let error as TokenSettings.InvalidSetting {
            // Only `none` means something here; a value meant for the docker helper keeps the file
            // cache, and an unusable throttling budget the plugin's own (said in the kubelet's log).
            if error.source == TokenSettings.throttlingBudgetVariable {
                diagnostics.warning("\(error); the plugin keeps trying throttled calls for 50 s")
            } else {
                diagnostics.debug("\(error); the plugin keeps its file cache")
            }
            settings = TokenSettings(cacheBackend: .file, tokenDirectory: "", toolConfig: try ToolConfigFile.load(environment: environment))
            settings.throttlingBudget = 50
        }
        // Budget for the kubelet's one minute: a 10 s wait for another process, a 15 s
        // credential_process, and ECR calls of 5 s each, three tries at most; throttled calls
        // keep trying for 50 s from the start when there is no cached token to fall back on.
        settings.lockTimeout = 10
        settings.throttlingBudget = environment[TokenSettings.throttlingBudgetVariable] == nil ? 50 : min(settings.throttlingBudget, 50)
        settings.credentialProcessTimeout = 15
        settings.requestTimeouts = HTTPTimeouts(connect: 2, total: 5)
        let directory: String?
        if environment["HOME"] != nil {
            directory = environment.cacheHome + "/ecr-credential-provider"
        } else {
            directory = geteuid() == 0 ? "/var/cache/ecr-credential-provider" : nil
        }
        settings.tokenDirectory = directory ?? ""
        settings.lockDirectory = (directory ?? "") + "/locks"
        guard settings.cacheBackend != .none, let directory else {
            diagnostics.debug("token cache off: \(settings.cacheBackend == .none ? "disabled" : "no HOME, and not root")")
            return (settings, .disabled)
        }
        do {
            try PrivateFile.makeDirectory(directory)
        } catch {
            diagnostics.debug("token cache off: \(error)")
            return (settings, .disabled)
        }
        return (settings, TokenCache(store: FileCredentialStore(directory: directory, diagnostics: diagnostics)))
    }
}
