// Inputs at and past the limits the parsers accept: times outside the calendar, expiries of 1e20
// seconds, line breaks in tokens, glob patterns of many stars (several found by the fuzz targets).
import ECRCredentials
import Foundation
import Testing

@Suite struct OutOfRangeInputTests {
    static let host = "123456789012.dkr.ecr.us-west-2.amazonaws.com"

    /// cache-record, ecr-json: an expiry of 1e20 seconds (or not finite) trapped when formatted.
    @Test(arguments: [1e20, -1e20, Double.infinity, -Double.infinity, Double.nan, Double.greatestFiniteMagnitude])
    func timestampsOutsideTheCalendarAreFormattedWithoutTrapping(_ seconds: Double) {
        let text = Timestamp.iso8601(Timestamp(timeIntervalSince1970: seconds))
        #expect(text.count == 20)
        #expect(Timestamp.amzDate(Timestamp(timeIntervalSince1970: seconds)).count == 16)
    }

    @Test func theLastSecondOfYear9999IsTheLimit() {
        #expect(Timestamp.iso8601(Timestamp(timeIntervalSince1970: 1e20)) == "9999-12-31T23:59:59Z")
        #expect(Timestamp.iso8601(Timestamp(timeIntervalSince1970: -1e20)) == "0001-01-01T00:00:00Z")
        #expect(Timestamp.iso8601(Timestamp(timeIntervalSince1970: 1_800_000_000)) == "2027-01-15T08:00:00Z")
    }

    /// ecr-json: ECR answering `"expiresAt": 1e20` crashed `get` at debug level (the debug line
    /// formats the expiry). Such an answer is now a malformed reply: no crash, no token.
    @Test func aTokenExpiringIn1e20SecondsIsRefusedWithoutACrash() throws {
        let scratch = try TemporaryDirectory()
        let configuration = HelperConfiguration(tokens: TokenSettings(cacheBackend: .file, tokenDirectory: scratch.path + "/tokens"),
                                                loginDirectory: scratch.path + "/logins")
        let environment = Environment(["HOME": scratch.path, "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
                                       "AWS_EC2_METADATA_DISABLED": "true"])
        let helper = CredentialHelper(configuration: configuration, environment: environment,
                                      transport: MockTransport([MockTransport.ecrToken("far", expiresAt: 1e20)]), clock: ManualClock(),
                                      diagnostics: Diagnostics(level: .debug, sink: { _ in }))
        #expect(throws: HelperError.self) { try helper.get(Self.host) }
        #expect(throws: HelperError.self) { try helper.get(Self.host) }
    }

    /// imds: a session token with a line break went into the `x-aws-ec2-metadata-token` header as it was.
    @Test(arguments: ["tok\r\nX-Injected: 1", "tok\nen", "to\rk"])
    func aMetadataSessionTokenWithALineBreakIsRefused(_ token: String) throws {
        let reply = #"{"Code":"Success","AccessKeyId":"ASIAIMDS","SecretAccessKey":"i","Token":"t","Expiration":"2027-01-01T00:00:00Z"}"#
        let transport = MockTransport([.response(HTTPResponse(status: 200, body: Array(token.utf8))),
                                       .response(HTTPResponse(status: 200, body: Array("role".utf8))),
                                       .response(HTTPResponse(status: 200, body: Array(reply.utf8)))])
        let environment = Environment(["HOME": "/nonexistent", "AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:9",
                                       "AWS_CONFIG_FILE": "/nonexistent/config", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials"])
        let sender = AWSRequestSender(transport: transport, clock: ManualClock(), diagnostics: Diagnostics(level: .warning, sink: { _ in }))
        let context = CredentialContext(environment: environment, configuration: ConfigurationLoader(environment: environment), sender: sender)
        let provider = try #require(try InstanceMetadataCredentialProvider.fromEnvironment(context))
        #expect(throws: CredentialError.self) { try provider.credentials() }
        for request in transport.requests {
            #expect(!request.headers.contains { $0.value.utf8.contains(0x0A) || $0.value.utf8.contains(0x0D) })
        }
    }

    /// The identity rule a one-pattern tool config gives `host`, if any.
    static func matches(_ pattern: String, _ host: String) throws -> Bool {
        let file = try AWSConfigFile(path: "/c", text: "[registry \(pattern)]\nprofile = p\n")
        return try ToolConfigFile(file).identity(host: host, accountID: nil) != nil
    }

    /// glob: a pattern of 12 × `*a` then `*b` took exponential time against a long label.
    @Test func aPatternOfManyStarsMatchesInBoundedTime() throws {
        let started = MonotonicTime.seconds()
        let pattern = String(repeating: "*a", count: 12) + "*b.example"
        #expect(try !Self.matches(pattern, String(repeating: "a", count: 60) + ".example"))
        #expect(try Self.matches(pattern, String(repeating: "a", count: 60) + "b.example"))
        #expect(MonotonicTime.seconds() - started < 1)
    }

    @Test(arguments: [("*.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.us-west-2.amazonaws.com", true),
                      ("*.dkr.ecr.eu-*.amazonaws.com", "123456789012.dkr.ecr.us-west-2.amazonaws.com", false),
                      ("*.dkr.ecr.eu-*.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", true),
                      ("a*b*c.example", "abc.example", true), ("a*b*c.example", "aXbYc.example", true),
                      ("a*b*c.example", "aXbYcZ.example", false), ("*c.example", "abcbc.example", true),
                      ("a**.example", "a.example", true), ("*.example", "x.example", true),
                      ("x*.example", "y.example", false), ("*ab.example", "aab.example", true)])
    func globPatternsMatchWithinLabels(_ pattern: String, _ host: String, _ expected: Bool) throws {
        #expect(try Self.matches(pattern, host) == expected)
    }
}
