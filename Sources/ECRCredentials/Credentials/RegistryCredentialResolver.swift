// The AWS identity that fetches tokens for one registry.

/// Chooses the credential provider for a registry: the rule of `DOCKER_CREDENTIAL_ECR_PROFILE` /
/// `DOCKER_CREDENTIAL_ECR_ROLE_ARN`, else of the tool's config file, applied on top of the
/// standard chain; without a rule, the standard chain alone.
package struct RegistryCredentialResolver: Sendable {
    /// A chosen provider and the profile it stands on (for endpoint settings).
    package struct Resolution: Sendable {
        /// The provider.
        package var provider: any CredentialProvider
        /// The profile whose settings apply, when a rule named one.
        package var profile: String?
    }

    private let context: CredentialContext
    private let settings: ToolConfigFile?

    package init(context: CredentialContext, settings: ToolConfigFile?) {
        self.context = context
        self.settings = settings
    }

    /// The rule for `registry`, if any: the environment's first, then the config file's.
    package func rule(for registry: ECRRegistry) -> ToolConfigFile.RegistryIdentity? {
        let environment = context.environment
        if environment["DOCKER_CREDENTIAL_ECR_PROFILE"] != nil || environment["DOCKER_CREDENTIAL_ECR_ROLE_ARN"] != nil {
            return ToolConfigFile.RegistryIdentity(profile: environment["DOCKER_CREDENTIAL_ECR_PROFILE"],
                                                   roleARN: environment["DOCKER_CREDENTIAL_ECR_ROLE_ARN"],
                                                   externalID: environment["DOCKER_CREDENTIAL_ECR_EXTERNAL_ID"],
                                                   origin: "DOCKER_CREDENTIAL_ECR_PROFILE/DOCKER_CREDENTIAL_ECR_ROLE_ARN")
        }
        return settings?.identity(host: registry.host, accountID: registry.accountID)
    }

    /// The provider for `registry`.
    /// - Throws: what the chain throws.
    package func resolve(for registry: ECRRegistry) throws -> Resolution {
        let chain = CredentialChain(context: context)
        guard let rule = rule(for: registry) else { return Resolution(provider: try chain.provider(), profile: nil) }
        context.diagnostics.debug("\(registry.host): identity from \(rule.origin)")
        var provider = try chain.provider(profile: rule.profile)
        if let roleARN = rule.roleARN {
            let profile = try rule.profile.flatMap { try context.configuration.configuration().profile(named: $0) }
            let sts = STSClient(sender: context.sender, endpoints: context.endpoints(profile: rule.profile),
                                region: rule.region ?? context.region(profile: profile))
            let options = STSClient.SessionOptions(sessionName: rule.sessionName ?? context.defaultSessionName(),
                                                   externalID: rule.externalID, durationSeconds: rule.durationSeconds)
            provider = AssumeRoleCredentialProvider(roleARN: roleARN, options: options, source: provider, sts: sts, origin: rule.origin)
        }
        return Resolution(provider: provider, profile: rule.profile)
    }
}
