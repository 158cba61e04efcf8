// Endpoint URLs as AWS_ENDPOINT_URL* and the config file give them.
@testable import ECRCredentials
import Testing

@Suite struct EndpointTests {
    // url, scheme, authority, base path, host
    @Test(arguments: [
        ("https://api.ecr.us-west-2.amazonaws.com", "https", "api.ecr.us-west-2.amazonaws.com", "", "api.ecr.us-west-2.amazonaws.com"),
        ("  http://127.0.0.1:4566/\n", "http", "127.0.0.1:4566", "", "127.0.0.1"),
        ("HTTPS://Example.com/base//", "https", "Example.com", "/base", "Example.com"),
        ("https://example.com/a/b/?query=1#fragment", "https", "example.com", "/a/b", "example.com"),
        ("https://example.com#fragment/not-a-path", "https", "example.com", "", "example.com"),
        ("https://example.com?x=/y", "https", "example.com", "", "example.com"),
        ("https://[::1]:8443/p\u{e9}/", "https", "[::1]:8443", "/p\u{e9}", "::1"),
        ("http://h\u{e9}st.example/\u{1F600}/", "http", "h\u{e9}st.example", "/\u{1F600}", "h\u{e9}st.example"),
        ("https://example.com/e\u{301}/", "https", "example.com", "/e\u{301}", "example.com"),
        ("https://example.com///", "https", "example.com", "", "example.com"),
        // A combining mark after a delimiter does not hide it.
        ("https://example.com?\u{301}", "https", "example.com", "", "example.com"),
        ("https://example.com#\u{301}/x", "https", "example.com", "", "example.com"),
        ("https://example.com/\u{301}", "https", "example.com", "/\u{301}", "example.com"),
    ] as [(String, String, String, String, String)])
    func parses(url: String, scheme: String, authority: String, basePath: String, host: String) throws {
        let endpoint = try Endpoint(parsing: url)
        #expect(endpoint.scheme == scheme)
        #expect(endpoint.authority == authority)
        #expect(endpoint.basePath.unicodeScalars.elementsEqual(basePath.unicodeScalars))
        #expect(endpoint.host == host)
    }

    // url, the reason given
    @Test(arguments: [
        ("example.com", "it must start with http:// or https://"),
        ("ftp://example.com", "the scheme must be http or https"),
        ("https://", "no host"),
        ("https:///path", "no host"),
        ("https://?x", "no host"),
        ("https://user:secret@example.com", "user info is not allowed"),
        ("https://@example.com/", "user info is not allowed"),
        ("https://example.com@\u{301}x", "user info is not allowed"),
    ])
    func refuses(url: String, reason: String) {
        #expect {
            try Endpoint(parsing: url)
        } throws: { error in
            (error as? Endpoint.ParseError)?.reason == reason
        }
    }
}
