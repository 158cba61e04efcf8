// Credentials of an IAM role, assumed with the credentials of another provider.

/// `sts:AssumeRole` on top of a source provider (a profile's `source_profile` or
/// `credential_source`, or a per-registry role).
package struct AssumeRoleCredentialProvider: CredentialProvider {
    /// The role.
    package let roleARN: String
    /// Session name, external id and duration.
    package let options: STSClient.SessionOptions
    /// Whose credentials assume the role.
    package let source: any CredentialProvider
    /// For messages: "role arn:... (profile dev)".
    package let name: String
    private let sts: STSClient

    package init(roleARN: String, options: STSClient.SessionOptions, source: any CredentialProvider, sts: STSClient, origin: String) {
        self.roleARN = roleARN
        self.options = options
        self.source = source
        self.sts = sts
        self.name = "role \(roleARN) (\(origin))"
    }

    /// The role, its external id, and who assumes it. The session name does not matter.
    package var identity: String {
        "assume-role\0\(roleARN)\0\(options.externalID ?? "")\0\(source.identity)"
    }

    package func credentials() throws -> AWSCredentials {
        let base = try source.credentials()
        do {
            return try sts.assumeRole(roleARN, options: options, credentials: base)
        } catch var error as AWSServiceError where error.code == "AccessDenied" {
            error.advice = "\(source.name) may not assume \(roleARN): it needs sts:AssumeRole on the role, and the role's trust policy must allow it"
            throw CredentialError(.providerFailed, "assuming \(name): \(error)", underlying: error)
        } catch {
            throw CredentialError(.providerFailed, "assuming \(name): \(error)", underlying: error)
        }
    }
}
