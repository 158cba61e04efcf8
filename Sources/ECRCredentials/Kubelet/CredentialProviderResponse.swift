// What an image credential provider plugin answers the kubelet on stdout.

/// A `CredentialProviderResponse` with registry-keyed credentials.
///
/// The kubelet decodes it strictly: an unknown field, or an `apiVersion` other than the one it
/// sent, fails the whole lookup. So the JSON holds exactly `kind`, `apiVersion`,
/// `cacheKeyType`, `cacheDuration` and `auth`, in that order, with no null anywhere.
package struct CredentialProviderResponse: Sendable, Equatable {
    /// The request's API version.
    package var apiVersion: CredentialProviderRequest.APIVersion
    /// How long the kubelet may keep the credentials; `0s` means not at all.
    package var cacheDuration: GoDuration
    /// The auth key (`host[:port]` as in the image) and its credentials.
    package var auth: [(key: String, username: String, password: String)]

    package init(apiVersion: CredentialProviderRequest.APIVersion, cacheDuration: GoDuration,
                auth: [(key: String, username: String, password: String)]) {
        self.apiVersion = apiVersion
        self.cacheDuration = cacheDuration
        self.auth = auth
    }

    package static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.apiVersion == rhs.apiVersion && lhs.cacheDuration == rhs.cacheDuration
            && lhs.auth.map { [$0.key, $0.username, $0.password] } == rhs.auth.map { [$0.key, $0.username, $0.password] }
    }

    /// The JSON text, one line, newline included.
    package var json: String {
        let entries = auth.map { "\(JSONText.quote($0.key)):{\"username\":\(JSONText.quote($0.username)),\"password\":\(JSONText.quote($0.password))}" }
        return "{\"kind\":\"CredentialProviderResponse\",\"apiVersion\":\(JSONText.quote(apiVersion.rawValue)),"
            + "\"cacheKeyType\":\"Registry\",\"cacheDuration\":\(JSONText.quote(cacheDuration.description)),"
            + "\"auth\":{\(entries.joined(separator: ","))}}\n"
    }
}
