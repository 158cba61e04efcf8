// Choosing the credential source from environment variables and profiles.
import ECRCredentials
import Testing

@Suite struct CredentialChainTests {
    static func context(_ variables: [String: String], config: String = "", credentials: String = "",
                        transport: MockTransport = MockTransport(), clock: ManualClock = ManualClock()) -> CredentialContext {
        var variables = variables
        variables["HOME"] = variables["HOME"] ?? "/home/u"
        if variables["AWS_EC2_METADATA_DISABLED"] == nil && variables["AWS_EC2_METADATA_SERVICE_ENDPOINT"] == nil {
            variables["AWS_EC2_METADATA_DISABLED"] = "true"
        }
        let loader = ConfigurationLoader {
            AWSConfiguration(configFile: try AWSConfigFile(path: "/home/u/.aws/config", text: config),
                             credentialsFile: try AWSConfigFile(path: "/home/u/.aws/credentials", text: credentials),
                             configPath: "/home/u/.aws/config", credentialsPath: "/home/u/.aws/credentials")
        }
        return CredentialContext(environment: Environment(variables), configuration: loader,
                                 sender: AWSRequestSender(transport: transport, clock: clock), fallbackRegion: "us-west-2")
    }

    static func chain(_ variables: [String: String], config: String = "", credentials: String = "") -> CredentialChain {
        CredentialChain(context: context(variables, config: config, credentials: credentials))
    }

    @Test func environmentComesFirst() throws {
        let provider = try Self.chain(["AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"],
                                      credentials: "[default]\naws_access_key_id=AKIAFILE\naws_secret_access_key=x\n").provider()
        #expect(provider.name == "environment variables")
        #expect(try provider.credentials() == AWSCredentials(accessKeyID: "AKIAENV", secretAccessKey: "s", sessionToken: "t"))
    }

    @Test func legacySecurityTokenIsRead() throws {
        let provider = try Self.chain(["AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SECURITY_TOKEN": "legacy"]).provider()
        #expect(try provider.credentials().sessionToken == "legacy")
    }

    @Test func halfSetEnvironmentIsAnError() {
        #expect(throws: CredentialError.self) { try Self.chain(["AWS_ACCESS_KEY_ID": "A"]).provider() }
        #expect(throws: CredentialError.self) { try Self.chain(["AWS_SECRET_ACCESS_KEY": "s"]).provider() }
    }

    @Test func expiredEnvironmentCredentialsSayWhen() throws {
        let provider = try Self.chain(["AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "s",
                                       "AWS_CREDENTIAL_EXPIRATION": "2020-01-01T00:00:00Z"]).provider()
        #expect {
            try provider.credentials()
        } throws: { error in
            "\(error)" == "the credentials from environment variables expired at 2020-01-01T00:00:00Z; refresh them"
        }
    }

    @Test func profileStaticKeys() throws {
        let provider = try Self.chain(["AWS_PROFILE": "dev"], config: "[profile dev]\nregion=eu-west-1\n",
                                      credentials: "[dev]\naws_access_key_id = AKIADEV\naws_secret_access_key = sk\n").provider()
        #expect(provider.name == "profile \"dev\" (static keys)")
        #expect(try provider.credentials().accessKeyID == "AKIADEV")
    }

    @Test func identitiesDifferByKeyAndSecret() throws {
        let one = try Self.chain(["AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "s1"]).provider().identity
        let two = try Self.chain(["AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "s2"]).provider().identity
        let three = try Self.chain(["AWS_ACCESS_KEY_ID": "B", "AWS_SECRET_ACCESS_KEY": "s1"]).provider().identity
        #expect(Set([one, two, three]).count == 3)
    }

    @Test func missingExplicitProfileNamesTheFiles() {
        #expect {
            try Self.chain(["AWS_PROFILE": "ghost"]).provider()
        } throws: { error in
            "\(error)" == "profile \"ghost\" (from AWS_PROFILE) is not in /home/u/.aws/config or /home/u/.aws/credentials"
        }
    }

    @Test func nothingConfiguredSaysWhatToSet() {
        #expect {
            try Self.chain([:]).provider()
        } throws: { error in
            (error as? CredentialError)?.code == .notConfigured && "\(error)".contains("AWS_ACCESS_KEY_ID")
        }
    }

    @Test func halfAKeyPairInAProfileNamesTheFile() {
        #expect {
            try Self.chain([:], credentials: "[default]\naws_access_key_id = A\n").provider()
        } throws: { error in
            "\(error)" == "profile \"default\" has aws_access_key_id but no aws_secret_access_key (/home/u/.aws/credentials [default])"
        }
    }
}
