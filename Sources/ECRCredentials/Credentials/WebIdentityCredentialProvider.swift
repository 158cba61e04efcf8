// Credentials for a web identity token (EKS IRSA, GitHub Actions OIDC, ...).

/// `sts:AssumeRoleWithWebIdentity` with a token read from a file on every call (it rotates).
public struct WebIdentityCredentialProvider: CredentialProvider {
    /// The role.
    public let roleARN: String
    /// The file holding the token.
    public let tokenFile: String
    /// Session options.
    public let options: STSClient.SessionOptions
    /// For messages.
    public let name: String
    private let sts: STSClient

    /// Creates a provider.
    public init(roleARN: String, tokenFile: String, options: STSClient.SessionOptions, sts: STSClient, origin: String) {
        self.roleARN = roleARN
        self.tokenFile = tokenFile
        self.options = options
        self.sts = sts
        self.name = "web identity \(roleARN) (\(origin))"
    }

    /// The role and the token file (not its content, which rotates).
    public var identity: String { "web-identity\0\(roleARN)\0\(tokenFile)" }

    public func credentials() throws -> AWSCredentials {
        let token = try CredentialError.readTokenFile(tokenFile, what: "web identity token", provider: name)
        do {
            return try sts.assumeRoleWithWebIdentity(roleARN, options: options, token: token)
        } catch {
            throw CredentialError(.providerFailed, "\(name): \(error)", underlying: error)
        }
    }
}
