// Who a Kubernetes service-account token stands for, read from its claims (not verified here).

/// The issuer and subject of a service-account token (a JWT), for cache keys and session names.
///
/// The token is not verified here: STS verifies it on every exchange. It only decides which
/// cache entry a token may reuse, and the caller (the kubelet, as root) is trusted with that.
package struct ServiceAccountToken: Sendable, Equatable {
    /// The token.
    package var value: String
    /// `iss`, when the token reads as a JWT.
    package var issuer: String?
    /// `sub`, such as `system:serviceaccount:NAMESPACE:NAME`, when the token reads as a JWT.
    package var subject: String?

    /// Reads the claims of `value`; a token that is not a readable JWT keeps nil claims.
    package init(_ value: String) {
        self.value = value
        struct Claims: Decodable {
            var iss: String?
            var sub: String?
        }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].utf8.count <= 64 * 1024, let payload = Self.base64URLDecode(parts[1]),
              let claims = try? JSONInput.decode(Claims.self, from: payload)
        else { return }
        // Claims with control characters are not a service account's: treat the token as claimless.
        guard let iss = claims.iss, let sub = claims.sub, !(iss + sub).unicodeScalars.contains(where: TerminalText.isUnprintable)
        else { return }
        issuer = iss
        subject = sub
    }

    /// Who the token stands for: issuer and subject, or, for a token without readable claims, a
    /// digest of the token itself (so it never shares another token's cache entry).
    package var owner: String {
        // Quoted, so no pair of claims can spell another pair.
        if let issuer, let subject { return "jwt:\(JSONText.quote(issuer)),\(JSONText.quote(subject))" }
        return "sha256:" + Hex.encode(Digest.sha256(Array(value.utf8)))
    }

    /// `NAMESPACE.NAME` of a `system:serviceaccount:NAMESPACE:NAME` subject, as a role session
    /// name (CloudTrail then shows which service account pulled); nil for other subjects.
    package var sessionName: String? {
        guard let subject, subject.hasPrefix("system:serviceaccount:") else { return nil }
        let parts = subject.dropFirst("system:serviceaccount:".count).split(separator: ":")
        guard parts.count == 2 else { return nil }
        // RoleSessionName allows [\w+=,.@-], 2 to 64 characters.
        let name = "\(parts[0]).\(parts[1])".filter { $0.isASCII && ($0.isLetter || $0.isNumber || "_+=,.@-".contains($0)) }
        return name.count >= 2 ? String(name.prefix(64)) : nil
    }

    static func base64URLDecode(_ text: Substring) -> [UInt8]? {
        var standard = String(text.map { $0 == "-" ? "+" : ($0 == "_" ? "/" : $0) })
        standard += String(repeating: "=", count: (4 - standard.utf8.count % 4) % 4)
        return Base64.decode(standard.utf8)
    }
}
