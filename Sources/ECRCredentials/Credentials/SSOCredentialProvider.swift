// Credentials of an IAM Identity Center (SSO) permission set, from the AWS CLI's login.

/// IAM Identity Center: the access token `aws sso login` cached, refreshed when it nears
/// expiry (sso-session profiles), exchanged for role credentials with `GetRoleCredentials`.
package struct SSOCredentialProvider: CredentialProvider {
    /// The sso-session name, or nil for a legacy profile (`sso_start_url` in the profile).
    package let sessionName: String?
    /// The portal start URL.
    package let startURL: String
    /// The Identity Center region.
    package let ssoRegion: String
    /// The account.
    package let accountID: String
    /// The permission set's role name.
    package let roleName: String
    /// The profile, for messages and the `aws sso login` hint.
    package let profileName: String
    /// "SSO profile "dev" (account 123456789012, role ECRPull)".
    package var name: String { "SSO profile \"\(profileName)\" (account \(accountID), role \(roleName))" }
    private let context: CredentialContext
    /// Refresh the token when it has less than this left, in seconds.
    static let refreshWindow = 300.0

    package init(sessionName: String?, startURL: String, ssoRegion: String, accountID: String, roleName: String,
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
    package var identity: String { "sso\0\(startURL)\0\(accountID)\0\(roleName)" }

    /// `~/.aws/sso/cache/<sha1 hex>.json`: SHA-1 of the session name, or of the start URL (legacy).
    package var tokenCachePath: String {
        let key = sessionName ?? startURL
        let digest = Digest.sha1(Array(key.utf8))
        return context.environment.homeDirectory + "/.aws/sso/cache/" + Hex.encode(digest) + ".json"
    }

    private var loginHint: String { "run `aws sso login --profile \(profileName)`" }

    package func credentials() throws -> AWSCredentials {
        let token = try accessToken()
        let endpoint: Endpoint
        do {
            endpoint = try context.endpoints(profile: profileName).endpoint(for: .sso, standardHost: "portal.sso.\(ssoRegion).amazonaws.com")
        } catch {
            throw CredentialError(.invalidConfiguration, "\(name): \(error)", underlying: error)
        }
        var request = HTTPRequest(method: "GET", endpoint: endpoint, path: "/federation/credentials",
                                  headers: [HTTPHeader("x-amz-sso_bearer_token", token), HTTPHeader("Accept", "application/json")])
        request.query = [("role_name", roleName), ("account_id", accountID)]
        let response: HTTPResponse
        do {
            response = try context.sender.send(request, signer: nil, credentials: nil, service: "SSO", operation: "GetRoleCredentials")
        } catch let error as AWSServiceError where error.code == "UnauthorizedException" {
            throw CredentialError(.providerFailed, "\(name): the SSO session is no longer valid; \(loginHint)", underlying: error,
                                  ssoLoginRequired: profileName)
        } catch let error as AWSServiceError where error.code == "ForbiddenException" {
            throw CredentialError(.providerFailed, "\(name): your SSO user may not use role \(roleName) in account \(accountID) (\(error.message))",
                                  underlying: error)
        } catch {
            throw CredentialError(.providerFailed, "\(name): \(error)", underlying: error)
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
                              expiration: Timestamp(timeIntervalSince1970: expiration))
    }

    /// The cached access token, refreshed first when it is about to expire and can be.
    func accessToken() throws -> String {
        let path = tokenCachePath
        let bytes: [UInt8]
        do {
            guard let read = try PrivateFile.read(path) else {
                throw CredentialError(.providerFailed, "\(name): no SSO login found (\(path)); \(loginHint)", ssoLoginRequired: profileName)
            }
            bytes = read
        } catch let error where error is SystemError || error is PrivateFile.Refusal {
            throw CredentialError(.providerFailed, "\(name): \(error)", underlying: error)
        }
        guard var cached = try? JSONInput.decode(SSOToken.self, from: bytes), let accessToken = cached.accessToken,
              let expiresText = cached.expiresAt, let expiresAt = Timestamp.parseISO8601(expiresText)
        else {
            throw CredentialError(.providerFailed, "\(name): the SSO token cache \(path) is not readable JSON with accessToken and expiresAt; \(loginHint)",
                                  ssoLoginRequired: profileName)
        }
        let now = context.clock.now()
        if expiresAt.timeIntervalSince(now) > Self.refreshWindow { return accessToken }
        var refreshFailure: (any Error)?
        if sessionName != nil {
            do {
                if let refreshed = try refresh(&cached, now: now) {
                    do {
                        // Only the refreshed fields change: whatever else the AWS CLI keeps there stays
                        // (a byte order mark goes: the AWS CLI's own reader refuses one).
                        var document = try JSONDocument(parsing: JSONInput.withoutByteOrderMark(bytes))
                        document.set("accessToken", to: cached.accessToken.map(JSONDocument.string))
                        document.set("expiresAt", to: cached.expiresAt.map(JSONDocument.string))
                        document.set("refreshToken", to: cached.refreshToken.map(JSONDocument.string))
                        try PrivateFile.writeAtomically(Array(document.text.utf8), to: path)
                    } catch {
                        context.diagnostics.warning("\(name): could not save the refreshed SSO token: \(error)")
                    }
                    return refreshed
                }
            } catch {
                context.diagnostics.debug("\(name): refreshing the SSO token failed: \(error)")
                refreshFailure = error
            }
        }
        if expiresAt > now { return accessToken }
        if let refreshFailure, ErrorChain.isTransient(refreshFailure) {
            // The login may well still be good: the refresh could not get through. Say so, and
            // let a still-valid registry token be served meanwhile.
            throw CredentialError(.providerFailed, "\(name): the SSO access token expired at \(Timestamp.iso8601(expiresAt)) "
                                  + "and refreshing it failed: \(refreshFailure)", underlying: refreshFailure)
        }
        throw CredentialError(.providerFailed, "\(name): the SSO session expired at \(Timestamp.iso8601(expiresAt)); \(loginHint)",
                              underlying: refreshFailure, ssoLoginRequired: profileName)
    }

    /// OIDC CreateToken with the refresh token; updates `token` and returns the new access token,
    /// or nil when the cached login cannot be refreshed (no refresh token, registration expired).
    /// - Throws: what the OIDC call threw (`AWSServiceError`, `HTTPTransportError`), or
    ///   `MalformedReply` for an answer without a usable token.
    private func refresh(_ token: inout SSOToken, now: Timestamp) throws -> String? {
        guard let clientID = token.clientId, let clientSecret = token.clientSecret, let refreshToken = token.refreshToken else {
            return nil
        }
        if let registration = token.registrationExpiresAt.flatMap(Timestamp.parseISO8601), registration <= now { return nil }
        struct Reply: Decodable {
            var accessToken: String
            var expiresIn: Double
            var refreshToken: String?
        }
        let endpoint = try context.endpoints(profile: profileName).endpoint(for: .ssoOIDC, standardHost: "oidc.\(ssoRegion).amazonaws.com")
        let body = "{\"grantType\":\"refresh_token\",\"clientId\":\(JSONText.quote(clientID)),"
            + "\"clientSecret\":\(JSONText.quote(clientSecret)),\"refreshToken\":\(JSONText.quote(refreshToken))}"
        let request = HTTPRequest(method: "POST", endpoint: endpoint, path: "/token",
                                  headers: [HTTPHeader("Content-Type", "application/json")], body: Array(body.utf8))
        let response = try context.sender.send(request, signer: nil, credentials: nil, service: "SSO OIDC", operation: "CreateToken")
        guard let reply = try? JSONInput.decode(Reply.self, from: response.body), !reply.accessToken.isEmpty,
              reply.expiresIn.isFinite, (1...Self.longestTokenLife).contains(reply.expiresIn)
        else {
            throw MalformedReply(reason: "CreateToken answered without a usable accessToken and expiresIn")
        }
        token.accessToken = reply.accessToken
        token.expiresAt = Timestamp.iso8601(now.addingTimeInterval(reply.expiresIn))
        if let newRefresh = reply.refreshToken { token.refreshToken = newRefresh }
        context.diagnostics.debug("\(name): refreshed the SSO access token")
        return reply.accessToken
    }

    /// The longest access-token life accepted from CreateToken: 90 days, far above Identity
    /// Center's maximum, and far below what would overflow a date.
    static let longestTokenLife = 90.0 * 86_400

    /// An SSO answer that carried no usable token.
    package struct MalformedReply: Error, Sendable, CustomStringConvertible {
        /// What was wrong.
        package var reason: String
        /// For example "SSO OIDC CreateToken answered without ...".
        package var description: String { "SSO OIDC \(reason)" }
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
