// The JSON credentials document that credential endpoints and programs answer with.

/// `{"AccessKeyId", "SecretAccessKey", "Token" or "SessionToken", "Expiration", "Version"}`: what
/// container credential endpoints, the instance metadata service and `credential_process`
/// programs give. One reader for all of them, so they accept and refuse the same things.
struct CredentialsDocument: Decodable {
    var Version: Int?
    var AccessKeyId: String?
    var SecretAccessKey: String?
    var Token: String?
    var SessionToken: String?
    var Expiration: String?

    /// Reads credentials out of `bytes`.
    /// - Parameters:
    ///   - source: the provider, for messages ("container credentials (http://...)").
    ///   - verb: how the source gave it, for messages: "answered" (an endpoint), "printed" (a program).
    ///   - requiresVersion: whether `"Version": 1` must be present (`credential_process`).
    /// - Throws: a `.providerFailed` `CredentialError` saying what is missing or wrong.
    static func credentials(from bytes: [UInt8], source: String, verb: String, requiresVersion: Bool) throws -> AWSCredentials {
        let document: CredentialsDocument
        do {
            document = try JSONInput.decode(CredentialsDocument.self, from: bytes)
        } catch let duplicate as JSONInput.DuplicateKey {
            // Two readers of such a document can see different keys: refused, and said so.
            throw CredentialError(.providerFailed, "\(source) \(verb) a JSON object with the key \"\(duplicate.key)\" twice",
                                  underlying: duplicate)
        } catch {
            throw CredentialError(.providerFailed, "\(source) \(verb) something that is not the expected JSON object")
        }
        if requiresVersion, document.Version != 1 {
            throw CredentialError(.providerFailed,
                                  "\(source) \(verb) \"Version\": \(document.Version.map(String.init) ?? "nothing"); only 1 is supported")
        }
        guard let keyID = document.AccessKeyId, !keyID.isEmpty else {
            throw CredentialError(.providerFailed, "\(source) \(verb) no AccessKeyId")
        }
        guard let secret = document.SecretAccessKey, !secret.isEmpty else {
            throw CredentialError(.providerFailed, "\(source) \(verb) no SecretAccessKey")
        }
        return AWSCredentials(accessKeyID: keyID, secretAccessKey: secret, sessionToken: document.SessionToken ?? document.Token,
                              expiration: try CredentialError.expiration(document.Expiration, from: source))
    }
}
