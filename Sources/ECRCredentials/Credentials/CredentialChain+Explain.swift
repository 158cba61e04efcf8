// Why the credential chain picked the source it picked: for `doctor` and for "no credentials" hints.

extension CredentialChain {
    /// One source of the chain and what became of it.
    package struct Step: Sendable, Equatable {
        /// The source ("environment variables", "profile \"dev\"", ...).
        package var source: String
        /// Why it was used or passed over.
        package var outcome: String
        /// Whether this is the source the chain uses.
        package var chosen: Bool
    }

    /// The sources in the order the chain considers them, up to the one it uses (or the one whose
    /// configuration is wrong), each with why. Configuration only: no network call.
    package func explain() -> [Step] {
        var steps: [Step] = []
        func pass(_ source: String, _ outcome: String) { steps.append(Step(source: source, outcome: outcome, chosen: false)) }
        func stop(_ source: String, _ outcome: String, chosen: Bool) -> [Step] {
            steps.append(Step(source: source, outcome: outcome, chosen: chosen))
            return steps
        }
        let environment = context.environment
        do {
            if try environmentProvider() != nil {
                return stop("environment variables", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set", chosen: true)
            }
            pass("environment variables", "AWS_ACCESS_KEY_ID is not set")
        } catch {
            return stop("environment variables", "\(error)", chosen: false)
        }
        do {
            if try environmentWebIdentityProvider() != nil {
                return stop("web identity", "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN are set", chosen: true)
            }
            pass("web identity", "AWS_WEB_IDENTITY_TOKEN_FILE is not set")
        } catch {
            return stop("web identity", "\(error)", chosen: false)
        }
        let name = AWSConfiguration.profileName(environment: environment)
        let profileSource = "profile \"\(name)\""
        do {
            let configuration = try context.configuration.configuration()
            if let profile = configuration.profile(named: name) {
                if let provider = try profileProvider(profile, in: configuration, chain: []) {
                    return stop(profileSource, provider.name, chosen: true)
                }
                pass(profileSource, "has no credentials (no role_arn, sso_session, sso_start_url, aws_access_key_id or credential_process)")
            } else {
                pass(profileSource, "is not in \(configuration.configPath) or \(configuration.credentialsPath)")
            }
        } catch {
            return stop(profileSource, "\(error)", chosen: false)
        }
        do {
            if let provider = try ContainerCredentialProvider.fromEnvironment(context) {
                return stop("container credentials", provider.name, chosen: true)
            }
            pass("container credentials", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set")
        } catch {
            return stop("container credentials", "\(error)", chosen: false)
        }
        do {
            if let provider = try InstanceMetadataCredentialProvider.fromEnvironment(context) {
                return stop("EC2 instance metadata", "tried last: \(provider.name)", chosen: true)
            }
            pass("EC2 instance metadata", "disabled by AWS_EC2_METADATA_DISABLED")
        } catch {
            return stop("EC2 instance metadata", "\(error)", chosen: false)
        }
        return steps
    }
}
