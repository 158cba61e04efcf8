// The credentials `get` answers with, and the JSON that carries them.

/// A user name and secret for a server, as the helper protocol carries them.
package struct HelperCredential: Sendable, Equatable {
    /// The server URL, as the client sent it.
    package var serverURL: String
    /// The user name (`AWS` for ECR tokens).
    package var username: String
    /// The password or token.
    package var secret: String

    package init(serverURL: String, username: String, secret: String) {
        self.serverURL = serverURL
        self.username = username
        self.secret = secret
    }

    /// `{"ServerURL":...,"Username":...,"Secret":...}`, the answer to `get`.
    package var json: String {
        "{\"ServerURL\":\(JSONText.quote(serverURL)),\"Username\":\(JSONText.quote(username)),\"Secret\":\(JSONText.quote(secret))}"
    }
}
