// The walk down an error's causes: every wrapping layer is crossed, by type, never by text.
import ECRCredentials
import Testing

@Suite struct WrappingErrorTests {
    static let denied = AWSServiceError(service: "ECR", operation: "GetAuthorizationToken", status: 400, code: "AccessDeniedException",
                                        message: "not authorized")

    @Test func theChainCrossesEveryWrappingLayerOutermostFirst() {
        let credential = CredentialError(.providerFailed, "profile dev: failed", underlying: Self.denied)
        let helper = HelperError.notFound(cause: "host: failed", underlying: credential)
        let chain = ErrorChain.layers(of: helper)
        #expect(chain.count == 3)
        #expect(chain[0] is HelperError && chain[1] is CredentialError && chain[2] is AWSServiceError)
        #expect(ErrorChain.first(AWSServiceError.self, in: helper)?.code == "AccessDeniedException")
        #expect(ErrorChain.first(CredentialError.self, in: helper)?.message == "profile dev: failed")
        #expect(ErrorChain.first(FileLock.TimedOut.self, in: helper) == nil)
    }

    @Test func anSSOLoginToRenewIsAValueNotText() {
        let error = HelperError.notFound(underlying: CredentialError(.providerFailed, "no login; run something else", ssoLoginRequired: "dev"))
        #expect(ErrorChain.first(CredentialError.self, in: error)?.ssoLoginRequired == "dev")
        #expect(CredentialError(.providerFailed, "run `aws sso login --profile x`").ssoLoginRequired == nil)
    }
}
