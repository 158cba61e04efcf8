// The library's public face: a token service set up from the environment, as the helper sets one up.
import ECRCredentials
import Testing

@Suite struct TokenServiceEmbeddingTests {
    static let registry = ECRRegistry(host: "123456789012.dkr.ecr.us-west-2.amazonaws.com")!

    func environment(_ scratch: TemporaryDirectory, _ extra: [String: String] = [:]) -> Environment {
        Environment(["HOME": scratch.path, "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
                     "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": scratch.path + "/none",
                     "AWS_SHARED_CREDENTIALS_FILE": scratch.path + "/none", "DOCKER_CREDENTIAL_ECR_CACHE": "file",
                     "DOCKER_CREDENTIAL_ECR_THROTTLING_BUDGET": "0"].merging(extra) { $1 })
    }

    @Test func aSettingThatDoesNotReadIsRefused() throws {
        let scratch = try TemporaryDirectory()
        let error = #expect(throws: TokenSettings.InvalidSetting.self) {
            try TokenService(environment: environment(scratch, ["DOCKER_CREDENTIAL_ECR_CACHE": "disk"]))
        }
        #expect(error?.source == "DOCKER_CREDENTIAL_ECR_CACHE" && error?.value == "disk")
    }

    /// The service reads the environment's settings and endpoint, and fetches over libcurl: a
    /// closed port is the network's error, passing, with the endpoint named.
    @Test func itFetchesOverTheNetworkTheEnvironmentNames() throws {
        let scratch = try TemporaryDirectory()
        let service = try TokenService(environment: environment(scratch, ["AWS_ENDPOINT_URL": "http://127.0.0.1:1"]))
        #expect(service.settings.cacheBackend == .file && service.settings.throttlingBudget == 0)
        let error = #expect(throws: HTTPTransportError.self) { try service.token(for: Self.registry) }
        #expect(error?.code == .connectionFailed && error?.url.hasPrefix("http://127.0.0.1:1") == true)
        #expect(error?.isTransient == true)
    }
}
