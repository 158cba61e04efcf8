// Credentials of an IAM Identity Center (SSO) permission set, from the AWS CLI's login.
import Crypto
import FoundationEssentials

/// IAM Identity Center: the access token `aws sso login` cached, refreshed when it nears
/// expiry (sso-session profiles), exchanged for role credentials with `GetRoleCredentials`.
public struct SSOCredentialProvider: CredentialProvider {
    /// The sso-session name, or nil for a legacy profile (`sso_start_url` in the profile).
    public let sessionName: String?
    /// The portal start URL.
    public let startURL: String
    /// The Identity Center region.
    public let ssoRegion: String
    /// The account.
    public let accountID: String
    /// The permission set's role name.
    public let roleName: String
    /// The profile, for messages and the `aws sso login` hint.
    public let profileName: String
    /// "SSO profile "dev" (account 123456789012, role ECRPull)".
    public var name: String { "SSO profile \"\(profileName)\" (account \(accountID), role \(roleName))" }
    private let context: CredentialContext
    /// Refresh the token when it has less than this left, in seconds.
    static let refreshWindow = 300.0

    /// Creates a provider.
    public init(sessionName: String?, startURL: String, ssoRegion: String, accountID: String, roleName: String,
                profileName: String, context: CredentialContext) {
        self.sessionName = sessionName
        self.startURL = startURL
        self.ssoRegion = ssoRegion
        self.accountID = accountID
        self.roleName = roleName
        self.profileName = profileName
        self.context = context
    }

    /// Portal, account and role: the same for every login, so tokens survive re-logins.
    public var identity: String { "sso\0\(startURL)\0\(accountID)\0\(roleName)" }

    /// `~/.aws/sso/cache/<sha1 hex>.json`: SHA-1 of the session name, or of the start URL (legacy).
    public var tokenCachePath: String {
        let key = sessionName ?? startURL
        let digest = Insecure.SHA1.hash(data: Array(key.utf8))
        return context.environment.homeDirectory + "/.aws/sso/cache/" + Hex.encode(digest) + ".json"
    }

    private var loginHint: String { "run `aws sso login --profile \(profileName)`" }

    public func credentials() throws -> AWSCredentials {
        let token = try accessToken()
        let endpoint: Endpoint
        do {
            endpoint = try context.endpoints(profile: profileName).endpoint(for: .sso, standardHost: "portal.sso.\(ssoRegion).amazonaws.com")
        } catch {
            throw CredentialError(.invalidConfiguration, "\(name): \(error)")
        }
        var request = HTTPRequest(method: "GET", endpoint: endpoint, path: "/federation/credentials",
                                  headers: [HTTPHeader("x-amz-sso_bearer_token", token), HTTPHeader("Accept", "application/json")])
        request.query = [("role_name", roleName), ("account_id", accountID)]
        let response: HTTPResponse
        do {
            response = try context.sender.send(request, signer: nil, credentials: nil, service: "SSO", operation: "GetRoleCredentials")
        } catch let error as AWSServiceError where error.code == "UnauthorizedException" {
            throw CredentialError(.providerFailed, "\(name): the SSO session is no longer valid; \(loginHint)")
        } catch let error as AWSServiceError where error.code == "ForbiddenException" {
            throw CredentialError(.providerFailed, "\(name): your SSO user may not use role \(roleName) in account \(accountID) (\(error.message))")
        } catch {
            throw CredentialError(.providerFailed, "\(name): \(error)")
        }
        struct Reply: Decodable {
            struct RoleCredentials: Decodable {
                var accessKeyId: String
                var secretAccessKey: String
                var sessionToken: String?
                var expiration: Double
            }
            var roleCredentials: RoleCredentials
        }
        guard let reply = try? JSONInput.decode(Reply.self, from: response.body),
              let expiration = EpochSeconds.validated(reply.roleCredentials.expiration / 1000) else {
            throw CredentialError(.providerFailed, "\(name): GetRoleCredentials returned an unusable reply")
        }
        let role = reply.roleCredentials
        return AWSCredentials(accessKeyID: role.accessKeyId, secretAccessKey: role.secretAccessKey, sessionToken: role.sessionToken,
                              expiration: Date(timeIntervalSince1970: expiration))
    }

    /// The cached access token, refreshed first when it is about to expire and can be.
    func accessToken() throws -> String {
        let path = tokenCachePath
        let bytes: [UInt8]
        do {
            guard let read = try PrivateFile.read(path) else {
                throw CredentialError(.providerFailed, "\(name): no SSO login found (\(path)); \(loginHint)")
            }
            bytes = read
        } catch let error where error is SystemError || error is PrivateFile.Refusal {
            throw CredentialError(.providerFailed, "\(name): \(error)")
        }
        guard var cached = try? JSONInput.decode(SSOToken.self, from: bytes), let accessToken = cached.accessToken,
              let expiresText = cached.expiresAt, let expiresAt = Timestamp.parseISO8601(expiresText)
        else {
            throw CredentialError(.providerFailed, "\(name): the SSO token cache \(path) is not readable JSON with accessToken and expiresAt; \(loginHint)")
        }
        let now = context.clock.now()
        if expiresAt.timeIntervalSince(now) > Self.refreshWindow { return accessToken }
        if sessionName != nil, let refreshed = refresh(&cached, now: now) {
            do {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                try PrivateFile.writeAtomically(Array(try encoder.encode(cached)), to: path)
            } catch {
                context.diagnostics.warning("\(name): could not save the refreshed SSO token: \(error)")
            }
            return refreshed
        }
        if expiresAt > now { return accessToken }
        throw CredentialError(.providerFailed, "\(name): the SSO session expired at \(Timestamp.iso8601(expiresAt)); \(loginHint)")
    }

    /// OIDC CreateToken with the refresh token; updates `token` and returns the new access token.
    private func refresh(_ token: inout SSOToken, now: Date) -> String? {
        guard let clientID = token.clientId, let clientSecret = token.clientSecret, let refreshToken = token.refreshToken else {
            return nil
        }
        if let registration = token.registrationExpiresAt.flatMap(Timestamp.parseISO8601), registration <= now { return nil }
        struct Request: Encodable {
            var grantType = "refresh_token"
            var clientId: String
            var clientSecret: String
            var refreshToken: String
        }
        struct Reply: Decodable {
            var accessToken: String
            var expiresIn: Double
            var refreshToken: String?
        }
        do {
            let endpoint = try context.endpoints(profile: profileName).endpoint(for: .ssoOIDC, standardHost: "oidc.\(ssoRegion).amazonaws.com")
            let body = try JSONEncoder().encode(Request(clientId: clientID, clientSecret: clientSecret, refreshToken: refreshToken))
            let request = HTTPRequest(method: "POST", endpoint: endpoint, path: "/token",
                                      headers: [HTTPHeader("Content-Type", "application/json")], body: Array(body))
            let response = try context.sender.send(request, signer: nil, credentials: nil, service: "SSO OIDC", operation: "CreateToken")
            let reply = try JSONInput.decode(Reply.self, from: response.body)
            guard let expiresIn = EpochSeconds.validatedDuration(reply.expiresIn) else {
                context.diagnostics.debug("\(name): SSO OIDC CreateToken returned an expiresIn that is not a duration")
                return nil
            }
            token.accessToken = reply.accessToken
            token.expiresAt = Timestamp.iso8601(now.addingTimeInterval(expiresIn))
            if let newRefresh = reply.refreshToken { token.refreshToken = newRefresh }
            context.diagnostics.debug("\(name): refreshed the SSO access token")
            return reply.accessToken
        } catch {
            context.diagnostics.debug("\(name): refreshing the SSO token failed: \(error)")
            return nil
        }
    }

    /// The AWS CLI's SSO token cache file.
    struct SSOToken: Codable {
        var startUrl: String?
        var region: String?
        var accessToken: String?
        var expiresAt: String?
        var clientId: String?
        var clientSecret: String?
        var registrationExpiresAt: String?
        var refreshToken: String?
    }
}
