// The credentials `get` answers with, and the JSON that carries them.

/// A user name and secret for a server, as the helper protocol carries them.
public struct HelperCredential: Sendable, Equatable {
    /// The server URL, as the client sent it.
    public var serverURL: String
    /// The user name (`AWS` for ECR tokens).
    public var username: String
    /// The password or token.
    public var secret: String

    /// Creates a credential.
    public init(serverURL: String, username: String, secret: String) {
        self.serverURL = serverURL
        self.username = username
        self.secret = secret
    }

    /// `{"ServerURL":...,"Username":...,"Secret":...}`, the answer to `get`.
    public var json: String {
        "{\"ServerURL\":\(JSONText.quote(serverURL)),\"Username\":\(JSONText.quote(username)),\"Secret\":\(JSONText.quote(secret))}"
    }
}
