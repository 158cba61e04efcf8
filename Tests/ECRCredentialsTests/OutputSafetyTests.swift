// What is printed: the terminal sanitizer and the redaction of secrets, form by form.
import ECRCredentials
import Testing

@Suite struct SecretRedactionTests {
    @Test(arguments: [
        ("http://user:pw@proxy:3128", "http://user:<redacted>@proxy:3128"),
        ("http://user:p@SECRET7@proxy", "http://user:<redacted>@proxy"),
        ("https://user:pw@host/path@x?q=a@b#f@g", "https://user:<redacted>@host/path@x?q=a@b#f@g"),
        ("https://ghp_token@github.com/org/repo", "https://<redacted>@github.com/org/repo"),
        ("user:SECRET@proxy.internal:3128", "user:<redacted>@proxy.internal:3128"),
        ("user:p@ss@proxy", "user:<redacted>@proxy"),
        ("socks5h://:pw@proxy", "socks5h://:<redacted>@proxy"),
        ("http://proxy:3128", "http://proxy:3128"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),
        ("someone@example.com", "someone@example.com"),
        ("contact: a b@host", "contact: a b@host"),
        ("", ""),
    ])
    func urlPasswordsAreRedacted(input: String, expected: String) {
        #expect(SecretRedaction.url(input) == expected)
    }

    @Test func knownSecretsAndWebTokensAreRedacted() {
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.c2lnbmF0dXJl"
        #expect(SecretRedaction.secrets([], in: "bad token \(jwt) in request") == "bad token <redacted> in request")
        #expect(SecretRedaction.secrets([], in: "Token=\(jwt)&Version=1") == "Token=<redacted>&Version=1")
        #expect(SecretRedaction.secrets(["session-token-value"], in: "x session-token-value y") == "x <redacted> y")
        #expect(SecretRedaction.secrets(["short"], in: "a short word") == "a short word")
        #expect(SecretRedaction.webTokens(in: "eyJust a word, keyJ.x.y") == "eyJust a word, keyJ.x.y")
        #expect(SecretRedaction.webTokens(in: "unsigned eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.") == "unsigned <redacted>")
        #expect(SecretRedaction.webTokens(in: "header Authorization: Bearer abcdefgh123, next") == "header Authorization: Bearer <redacted>, next")
        #expect(SecretRedaction.webTokens(in: "BEARER abcdefgh123") == "BEARER <redacted>")
        #expect(SecretRedaction.webTokens(in: "a bearer of news") == "a bearer of news")
    }

    @Test func aSecretIsRedactedAsSentAndPercentEncoded() {
        let token = "FwoGZXIvYXdz/EJ+abc=="
        #expect(SecretRedaction.secrets([token], in: "echo X-Amz-Security-Token=FwoGZXIvYXdz%2FEJ%2Babc%3D%3D&x=1") == "echo X-Amz-Security-Token=<redacted>&x=1")
        #expect(SecretRedaction.secrets([token], in: "raw \(token)\u{301}") == "raw <redacted>\u{301}")
    }

    /// Part of a long secret, or a secret split by a mark inside it, or JSON-escaped, is still
    /// not given away.
    @Test func piecesOfALongSecretAreRedacted() {
        let token = "FwoGZXIvYXdzEJr//////////wEaDM0" + String(repeating: "QuAtbPL2x9", count: 20) + "/end"
        let head = String(token.prefix(40)), tail = String(token.dropFirst(40))
        for echoed in ["first part \(String(token.prefix(200))) only", "split \(head)\u{301}\(tail) here",
                       "json \(token.replacing("/", with: "\\/")) escaped"] {
            let redacted = SecretRedaction.secrets([token], in: echoed)
            #expect(!redacted.contains("QuAtbPL2x9QuAtbP"), "\(redacted)")
            #expect(redacted.contains("<redacted>"))
        }
        #expect(SecretRedaction.secrets([token], in: "an ordinary message about QuAtbPL") == "an ordinary message about QuAtbPL")
    }

    /// A server that echoes the request gets none of what it carried back into a message, even
    /// where the message is cut: the secret is taken out before the cut.
    @Test func anEchoedRequestSecretIsRedactedBeforeTheMessageIsCut() {
        let secret = String(repeating: "k", count: 40)
        let message = String(repeating: "x", count: 500) + secret
        let body = "{\"__type\":\"AccessDeniedException\",\"message\":\"\(message)\"}"
        let error = AWSServiceError.parse(HTTPResponse(status: 400, body: Array(body.utf8)), service: "ECR", operation: "GetAuthorizationToken",
                                          redacting: [secret])
        #expect(!error.message.contains("kkkkkkkk"))
    }
}

@Suite struct TerminalTextTests {
    @Test(arguments: ["\u{1B}]0;title\u{07}", "\u{1B}[2J", "\u{9B}31m", "\u{202E}", "\u{2066}", "\u{200F}", "\u{061C}", "\u{7F}", "\r", "\n"])
    func unprintableScalarsBecomeSpaces(sequence: String) {
        let safe = TerminalText.printable("a\(sequence)b")
        #expect(!safe.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0.value == 0x202E || $0.value == 0x2066
            || $0.value == 0x200F || $0.value == 0x061C })
        #expect(safe.hasPrefix("a") && safe.hasSuffix("b"))
    }

    @Test func printableKeepsEveryOtherCharacterAndCuts() {
        #expect(TerminalText.printable("café 🚀 日本") == "café 🚀 日本")
        #expect(TerminalText.printable("abcdef", limit: 3) == "abc")
    }

    @Test func jsonKeepsItsMeaningWithoutWhatATerminalActsOn() {
        let json = "{\n\t\"a\": \"x\u{9B}y\u{202E}z\u{7F}\"\n}\n"
        let escaped = TerminalText.escapingInJSON(json)
        #expect(escaped == "{\n\t\"a\": \"x\\u009by\\u202ez\\u007f\"\n}\n")
    }
}
