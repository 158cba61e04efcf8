// The hint table of `doctor`: what to do about each failure, decided from the error values it carries.

extension Doctor {
    /// What to do about `error`, decided from the error values it carries.
    static func hint(for error: any Error, steps: [CredentialChain.Step], provider: (any CredentialProvider)?, now: Timestamp) -> String? {
        let service = ErrorChain.first(AWSServiceError.self, in: error)
        let credential = ErrorChain.first(CredentialError.self, in: error)
        if let service {
            switch service.code {
            case "AccessDenied", "AccessDeniedException":
                let who = ECRClient.principal(in: service.message).map { "\($0) " } ?? "the principal "
                return "\(who)needs ecr:GetAuthorizationToken: attach the managed policy AmazonEC2ContainerRegistryPullOnly; pulls through a "
                    + "pull-through cache repository also need ecr:BatchImportUpstreamImage, which AmazonEC2ContainerRegistryReadOnly lacks"
            case "UnrecognizedClientException", "InvalidClientTokenId":
                return "AWS does not know the access key id from \(provider?.name ?? "the credentials in use"): it was deleted, belongs to "
                    + "another partition, or is a session key without its session token"
            case "InvalidSignatureException", "SignatureDoesNotMatch":
                if service.message.lowercased().containsText("expired") || service.message.containsText("not yet current") {
                    if let text = service.responseDate, let theirs = HTTPDate.parse(text) {
                        let skew = Int((now.timeIntervalSince1970 - theirs.timeIntervalSince1970).rounded())
                        return "the clock is off by \(abs(skew)) seconds (\(skew > 0 ? "ahead of" : "behind") AWS, measured from the answer's Date); "
                            + "correct it (chrony, systemd-timesyncd)"
                    }
                    return "the clock is off: correct it (chrony, systemd-timesyncd)"
                }
                return "the secret access key does not match the access key id from \(provider?.name ?? "the credentials in use")"
            case "ExpiredToken", "ExpiredTokenException":
                return "the session credentials from \(provider?.name ?? "the credentials in use") have expired: refresh them"
            default:
                break
            }
        }
        if let credential {
            if let profile = credential.ssoLoginRequired {
                return "run `aws sso login --profile \(profile)`"
            }
            if credential.code == .notConfigured {
                return "tried, in order: " + steps.map { "\($0.source) (\($0.outcome))" }.joined(separator: "; ")
                    + "; set AWS_PROFILE to a profile with credentials, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            }
        }
        if ErrorChain.isTransient(error) {
            return PullFinding.transientHint
        }
        return nil
    }
}
