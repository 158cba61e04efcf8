// Picks the source of AWS credentials in the order the AWS SDKs use.

/// Chooses the credential provider from configuration alone, without network calls.
///
/// Order: environment variables; web identity variables; the profile (`AWS_PROFILE`, else
/// `default`) with its role chain (`source_profile`, `credential_source`), web identity, SSO,
/// static keys or `credential_process`; container credentials; EC2 instance metadata. The first
/// source that is configured wins. A source configured wrongly is an error, not a reason to
/// try the next.
package struct CredentialChain: Sendable {
    let context: CredentialContext

    package init(context: CredentialContext) {
        self.context = context
    }

    private var environment: Environment { context.environment }

    /// The provider to use.
    /// - Parameter profileOverride: use this profile, ignoring credentials in the environment
    ///   (a per-registry identity).
    /// - Throws: `CredentialError` when none is configured or one is configured wrongly;
    ///   `SystemError`/`AWSConfigFile.ParseError` when a config file cannot be read.
    package func provider(profile profileOverride: String? = nil) throws -> any CredentialProvider {
        if profileOverride == nil {
            if let provider = try environmentProvider() { return provider }
            if let provider = try environmentWebIdentityProvider() { return provider }
        }
        let configuration = try context.configuration.configuration()
        let profileName = profileOverride ?? AWSConfiguration.profileName(environment: environment)
        let source = profileOverride != nil ? "the registry's identity" : (environment["AWS_PROFILE"] != nil ? "AWS_PROFILE" : "AWS_DEFAULT_PROFILE")
        let explicit = profileOverride != nil || environment["AWS_PROFILE"] != nil || environment["AWS_DEFAULT_PROFILE"] != nil
        if let profile = configuration.profile(named: profileName) {
            if let provider = try profileProvider(profile, in: configuration, chain: []) { return provider }
            if explicit {
                throw CredentialError(.invalidConfiguration,
                                      "profile \"\(profileName)\" has no credentials: no role_arn, sso_session, sso_start_url, aws_access_key_id or credential_process")
            }
        } else if explicit {
            throw CredentialError(.invalidConfiguration,
                                  "profile \"\(profileName)\" (from \(source)) is not in \(configuration.configPath) or \(configuration.credentialsPath)")
        }
        if let provider = try ContainerCredentialProvider.fromEnvironment(context) { return provider }
        let searched = "no AWS credentials in the environment or in \(configuration.configPath)"
        if let provider = try InstanceMetadataCredentialProvider.fromEnvironment(context) {
            return LastResortCredentialProvider(inner: provider, searched: searched)
        }
        throw CredentialError(.notConfigured,
                              "\(searched): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE to a profile of \(configuration.configPath)")
    }

    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` (with `AWS_SESSION_TOKEN` or the legacy
    /// `AWS_SECURITY_TOKEN`, and `AWS_CREDENTIAL_EXPIRATION`).
    func environmentProvider() throws -> (any CredentialProvider)? {
        let keyID = environment["AWS_ACCESS_KEY_ID"]
        let secret = environment["AWS_SECRET_ACCESS_KEY"]
        switch (keyID, secret) {
        case (nil, nil):
            return nil
        case (.some, nil):
            throw CredentialError(.invalidConfiguration, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        case (nil, .some):
            throw CredentialError(.invalidConfiguration, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not")
        case (.some(let keyID), .some(let secret)):
            var expiration: Timestamp?
            if let text = environment["AWS_CREDENTIAL_EXPIRATION"] {
                guard let date = Timestamp.parseISO8601(text) else {
                    throw CredentialError(.invalidConfiguration, "AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time: \(text)")
                }
                expiration = date
            }
            let credentials = AWSCredentials(accessKeyID: keyID, secretAccessKey: secret,
                                             sessionToken: environment["AWS_SESSION_TOKEN"] ?? environment["AWS_SECURITY_TOKEN"],
                                             expiration: expiration)
            return StaticCredentialProvider(name: "environment variables", credentials: credentials, clock: context.clock)
        }
    }

    /// `AWS_WEB_IDENTITY_TOKEN_FILE` with `AWS_ROLE_ARN` (EKS IRSA), and `AWS_ROLE_SESSION_NAME`.
    func environmentWebIdentityProvider() throws -> (any CredentialProvider)? {
        switch (environment["AWS_WEB_IDENTITY_TOKEN_FILE"], environment["AWS_ROLE_ARN"]) {
        case (nil, nil):
            return nil
        case (.some, nil):
            throw CredentialError(.invalidConfiguration, "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not")
        case (nil, .some):
            // AWS_ROLE_ARN alone is used by other tools too (and by the kubelet plugin); not a web identity.
            return nil
        case (.some(let tokenFile), .some(let roleARN)):
            let options = STSClient.SessionOptions(sessionName: environment["AWS_ROLE_SESSION_NAME"] ?? context.defaultSessionName())
            let profile = try? context.configuration.configuration().profile(named: AWSConfiguration.profileName(environment: environment))
            return WebIdentityCredentialProvider(roleARN: roleARN, tokenFile: tokenFile, options: options,
                                                 sts: context.sts(profile: profile), origin: "AWS_WEB_IDENTITY_TOKEN_FILE")
        }
    }

    /// The provider a profile describes; nil when it describes none.
    /// - Parameter chain: the profiles that led here through `source_profile`, to detect cycles.
    func profileProvider(_ profile: AWSConfiguration.Profile, in configuration: AWSConfiguration,
                         chain: [String]) throws -> (any CredentialProvider)? {
        let origin = "profile \"\(profile.name)\""
        if let roleARN = profile["role_arn"] {
            return try roleProvider(roleARN, profile: profile, in: configuration, chain: chain)
        }
        if profile["sso_session"] != nil || profile["sso_start_url"] != nil {
            return try ssoProvider(profile, in: configuration)
        }
        if let keys = try staticProvider(profile) { return keys }
        if let commandLine = profile["credential_process"] {
            return ProcessCredentialProvider(commandLine: commandLine, profileName: profile.name, environment: environment,
                                             diagnostics: context.diagnostics, timeout: context.processTimeout)
        }
        if profile["web_identity_token_file"] != nil {
            throw CredentialError(.invalidConfiguration, "\(origin) has web_identity_token_file but no role_arn (\(profile.origin(of: "web_identity_token_file")))")
        }
        return nil
    }

    private func staticProvider(_ profile: AWSConfiguration.Profile) throws -> (any CredentialProvider)? {
        let keyID = profile["aws_access_key_id"]
        let secret = profile["aws_secret_access_key"]
        guard keyID != nil || secret != nil else { return nil }
        guard let keyID, let secret else {
            let missing = keyID == nil ? "aws_access_key_id" : "aws_secret_access_key"
            let present = keyID == nil ? "aws_secret_access_key" : "aws_access_key_id"
            throw CredentialError(.invalidConfiguration,
                                  "profile \"\(profile.name)\" has \(present) but no \(missing) (\(profile.origin(of: present)))")
        }
        let credentials = AWSCredentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: profile["aws_session_token"])
        return StaticCredentialProvider(name: "profile \"\(profile.name)\" (static keys)", credentials: credentials, clock: context.clock)
    }

    private func roleProvider(_ roleARN: String, profile: AWSConfiguration.Profile, in configuration: AWSConfiguration,
                              chain: [String]) throws -> any CredentialProvider {
        let origin = "profile \"\(profile.name)\""
        if profile["mfa_serial"] != nil {
            throw CredentialError(.invalidConfiguration,
                                  "\(origin) needs an MFA code (mfa_serial), which a credential helper cannot ask for: "
                                  + "use an SSO profile, or a credential_process that caches MFA sessions (such as aws-vault), instead")
        }
        let options = try sessionOptions(profile)
        let sourceProfile = profile["source_profile"]
        let credentialSource = profile["credential_source"]
        if let tokenFile = profile["web_identity_token_file"], sourceProfile == nil, credentialSource == nil {
            return WebIdentityCredentialProvider(roleARN: roleARN, tokenFile: environment.expandingTilde(tokenFile), options: options,
                                                 sts: context.sts(profile: profile), origin: origin)
        }
        let source: any CredentialProvider
        switch (sourceProfile, credentialSource) {
        case (.some, .some):
            throw CredentialError(.invalidConfiguration, "\(origin) has both source_profile and credential_source; keep one")
        case (nil, nil):
            throw CredentialError(.invalidConfiguration,
                                  "\(origin) has role_arn but neither source_profile nor credential_source (\(profile.origin(of: "role_arn")))")
        case (.some(let sourceName), nil):
            if sourceName == profile.name {
                guard let keys = try staticProvider(profile) else {
                    throw CredentialError(.invalidConfiguration, "\(origin) names itself as source_profile but has no static keys")
                }
                source = keys
            } else {
                let path = chain + [profile.name]
                if path.contains(sourceName) {
                    throw CredentialError(.invalidConfiguration,
                                          "the role chain loops: " + (path + [sourceName]).map { "\"\($0)\"" }.joined(separator: " -> "))
                }
                guard let next = configuration.profile(named: sourceName) else {
                    throw CredentialError(.invalidConfiguration,
                                          "source_profile \"\(sourceName)\" of \(origin) is not in \(configuration.configPath) or \(configuration.credentialsPath)")
                }
                guard let provider = try profileProvider(next, in: configuration, chain: path) else {
                    throw CredentialError(.invalidConfiguration, "source_profile \"\(sourceName)\" of \(origin) has no credentials")
                }
                source = provider
            }
        case (nil, .some(let named)):
            source = try credentialSourceProvider(named, origin: origin)
        }
        return AssumeRoleCredentialProvider(roleARN: roleARN, options: options, source: source, sts: context.sts(profile: profile), origin: origin)
    }

    private func credentialSourceProvider(_ named: String, origin: String) throws -> any CredentialProvider {
        switch named {
        case "Environment":
            guard let provider = try environmentProvider() else {
                throw CredentialError(.invalidConfiguration, "\(origin) has credential_source = Environment but AWS_ACCESS_KEY_ID is not set")
            }
            return provider
        case "Ec2InstanceMetadata":
            guard let provider = try InstanceMetadataCredentialProvider.fromEnvironment(context) else {
                throw CredentialError(.invalidConfiguration, "\(origin) has credential_source = Ec2InstanceMetadata but AWS_EC2_METADATA_DISABLED is true")
            }
            return provider
        case "EcsContainer":
            guard let provider = try ContainerCredentialProvider.fromEnvironment(context) else {
                throw CredentialError(.invalidConfiguration,
                                      "\(origin) has credential_source = EcsContainer but neither AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor AWS_CONTAINER_CREDENTIALS_FULL_URI is set")
            }
            return provider
        default:
            throw CredentialError(.invalidConfiguration,
                                  "\(origin) has credential_source = \(named); use Environment, Ec2InstanceMetadata or EcsContainer")
        }
    }

    private func sessionOptions(_ profile: AWSConfiguration.Profile) throws -> STSClient.SessionOptions {
        var duration: Int?
        if let text = profile["duration_seconds"] {
            guard let seconds = Int(text), (900...43_200).contains(seconds) else {
                throw CredentialError(.invalidConfiguration,
                                      "profile \"\(profile.name)\" has duration_seconds = \(text); use 900 to 43200 (\(profile.origin(of: "duration_seconds")))")
            }
            duration = seconds
        }
        return STSClient.SessionOptions(sessionName: profile["role_session_name"] ?? context.defaultSessionName(),
                                        externalID: profile["external_id"], durationSeconds: duration)
    }

    private func ssoProvider(_ profile: AWSConfiguration.Profile, in configuration: AWSConfiguration) throws -> any CredentialProvider {
        let origin = "profile \"\(profile.name)\""
        var startURL = profile["sso_start_url"]
        var region = profile["sso_region"]
        let sessionName = profile["sso_session"]
        if let sessionName {
            guard let session = configuration.ssoSession(named: sessionName) else {
                throw CredentialError(.invalidConfiguration, "\(origin) names sso_session \"\(sessionName)\", but \(configuration.configPath) has no [sso-session \(sessionName)]")
            }
            let sessionURL = session.values["sso_start_url"].flatMap { $0.isEmpty ? nil : $0 }
            let sessionRegion = session.values["sso_region"].flatMap { $0.isEmpty ? nil : $0 }
            if let startURL, let sessionURL, startURL != sessionURL {
                throw CredentialError(.invalidConfiguration, "\(origin) and [sso-session \(sessionName)] name different sso_start_url values")
            }
            startURL = sessionURL ?? startURL
            region = sessionRegion ?? region
        }
        var missing: [String] = []
        if startURL == nil { missing.append("sso_start_url") }
        if region == nil { missing.append("sso_region") }
        if profile["sso_account_id"] == nil { missing.append("sso_account_id") }
        if profile["sso_role_name"] == nil { missing.append("sso_role_name") }
        guard missing.isEmpty, let startURL, let region, let account = profile["sso_account_id"], let role = profile["sso_role_name"] else {
            throw CredentialError(.invalidConfiguration, "\(origin) is an SSO profile without \(missing.joined(separator: ", "))")
        }
        return SSOCredentialProvider(sessionName: sessionName, startURL: startURL, ssoRegion: region, accountID: account,
                                     roleName: role, profileName: profile.name, context: context)
    }
}

/// The instance metadata provider when nothing else was configured: its failure means "no
/// credentials anywhere", and says so.
struct LastResortCredentialProvider: CredentialProvider {
    let inner: any CredentialProvider
    let searched: String

    var name: String { inner.name }
    var identity: String { inner.identity }

    func credentials() throws -> AWSCredentials {
        do {
            return try inner.credentials()
        } catch {
            throw CredentialError(.notConfigured, "\(searched), and \(error)", underlying: error)
        }
    }
}
