// Picks the source of AWS credentials in the order the AWS SDKs use.
import FoundationEssentials

/// Chooses the credential provider for this process, from configuration alone.
///
/// Order: environment variables, then the profile (`AWS_PROFILE`, else `default`) of the shared
/// config and credentials files. The first source that is configured wins; if it is configured
/// wrongly, that is an error, not a reason to try the next.
public struct CredentialChain: Sendable {
    private let environment: Environment
    private let clock: any WallClock
    private let loadConfiguration: @Sendable () throws -> AWSConfiguration

    /// Creates a chain.
    /// - Parameter configuration: reads the AWS config files; called only when a profile is needed.
    public init(environment: Environment, clock: any WallClock = SystemClock(),
                configuration: @escaping @Sendable () throws -> AWSConfiguration) {
        self.environment = environment
        self.clock = clock
        self.loadConfiguration = configuration
    }

    /// The provider to use.
    /// - Throws: `CredentialError` when none is configured or one is configured wrongly;
    ///   `SystemError`/`AWSConfigFile.ParseError` when a config file cannot be read.
    public func provider() throws -> any CredentialProvider {
        if let provider = try environmentProvider() { return provider }
        let configuration = try loadConfiguration()
        let profileName = AWSConfiguration.profileName(environment: environment)
        let explicit = environment["AWS_PROFILE"] != nil || environment["AWS_DEFAULT_PROFILE"] != nil
        guard let profile = configuration.profile(named: profileName) else {
            if explicit {
                throw CredentialError(.invalidConfiguration,
                                      "profile \"\(profileName)\" (from AWS_PROFILE) is not in \(configuration.configPath) or \(configuration.credentialsPath)")
            }
            throw CredentialError(.notConfigured,
                                  "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE to a profile of \(configuration.configPath)")
        }
        return try profileProvider(profile)
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
            var expiration: Date?
            if let text = environment["AWS_CREDENTIAL_EXPIRATION"] {
                guard let date = Timestamp.parseISO8601(text) else {
                    throw CredentialError(.invalidConfiguration, "AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 time: \(text)")
                }
                expiration = date
            }
            let credentials = AWSCredentials(accessKeyID: keyID, secretAccessKey: secret,
                                             sessionToken: environment["AWS_SESSION_TOKEN"] ?? environment["AWS_SECURITY_TOKEN"],
                                             expiration: expiration)
            return StaticCredentialProvider(name: "environment variables", credentials: credentials, clock: clock)
        }
    }

    /// The provider a profile describes.
    func profileProvider(_ profile: AWSConfiguration.Profile) throws -> any CredentialProvider {
        let keyID = profile["aws_access_key_id"]
        let secret = profile["aws_secret_access_key"]
        if keyID != nil || secret != nil {
            guard let keyID, let secret else {
                let missing = keyID == nil ? "aws_access_key_id" : "aws_secret_access_key"
                let present = keyID == nil ? "aws_secret_access_key" : "aws_access_key_id"
                throw CredentialError(.invalidConfiguration,
                                      "profile \"\(profile.name)\" has \(present) but no \(missing) (\(profile.origin(of: present)))")
            }
            let credentials = AWSCredentials(accessKeyID: keyID, secretAccessKey: secret,
                                             sessionToken: profile["aws_session_token"])
            return StaticCredentialProvider(name: "profile \"\(profile.name)\" (static keys)", credentials: credentials, clock: clock)
        }
        throw CredentialError(.notConfigured,
                              "profile \"\(profile.name)\" has no credentials this tool can use (no aws_access_key_id)")
    }
}
