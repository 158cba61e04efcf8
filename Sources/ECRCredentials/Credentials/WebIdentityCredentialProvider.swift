// Credentials for a web identity token (EKS IRSA, GitHub Actions OIDC, a pod's service account, ...).

/// `sts:AssumeRoleWithWebIdentity`, unsigned, with a token read from a file on every call (it
/// rotates) or handed over directly (the kubelet's service-account token).
package struct WebIdentityCredentialProvider: CredentialProvider {
    /// Where the token comes from.
    package enum TokenSource: Sendable, Equatable {
        /// A file, read afresh on every call.
        case file(String)
        /// The token itself, with who it stands for (issuer and subject): the cache identity,
        /// since the token rotates but its owner does not.
        case value(String, owner: String)
    }

    /// The role.
    package let roleARN: String
    /// Where the token comes from.
    package let token: TokenSource
    /// Session options.
    package let options: STSClient.SessionOptions
    /// For messages.
    package let name: String
    private let sts: STSClient

    /// Creates a provider reading the token from `tokenFile`.
    package init(roleARN: String, tokenFile: String, options: STSClient.SessionOptions, sts: STSClient, origin: String) {
        self.init(roleARN: roleARN, token: .file(tokenFile), options: options, sts: sts, origin: origin)
    }

    package init(roleARN: String, token: TokenSource, options: STSClient.SessionOptions, sts: STSClient, origin: String) {
        self.roleARN = roleARN
        self.token = token
        self.options = options
        self.sts = sts
        self.name = "web identity \(roleARN) (\(origin))"
    }

    /// The file holding the token, when it comes from one.
    package var tokenFile: String? {
        if case .file(let path) = token { return path }
        return nil
    }

    /// The role and the token's file or owner (never the token, which rotates).
    package var identity: String {
        switch token {
        case .file(let path): return "web-identity\0\(roleARN)\0\(path)"
        case .value(_, let owner): return "web-identity-token\0\(roleARN)\0\(owner)"
        }
    }

    package func credentials() throws -> AWSCredentials {
        let value: String
        switch token {
        case .file(let path): value = try CredentialError.readTokenFile(path, what: "web identity token", provider: name)
        case .value(let given, _): value = given
        }
        do {
            return try sts.assumeRoleWithWebIdentity(roleARN, options: options, token: value)
        } catch {
            throw CredentialError(.providerFailed, "\(name): \(error)", underlying: error)
        }
    }
}
