// AWS access keys, long-term or temporary.

/// A set of AWS credentials. Its description never shows the secret or the session token.
package struct AWSCredentials: Sendable, Equatable, CustomStringConvertible {
    /// The access key id (`AKIA...` long-term, `ASIA...` temporary).
    package var accessKeyID: String
    /// The secret access key.
    package var secretAccessKey: String
    /// The session token of temporary credentials.
    package var sessionToken: String?
    /// When temporary credentials stop working.
    package var expiration: Timestamp?

    /// Creates credentials.
    package init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Timestamp? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    /// For example "AWSCredentials(AKIAEXAMPLE, temporary)".
    package var description: String {
        "AWSCredentials(\(accessKeyID)\(sessionToken == nil ? "" : ", temporary"))"
    }
}
