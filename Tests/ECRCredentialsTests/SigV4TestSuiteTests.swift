// The official AWS SigV4 test suite (Resources/aws4_testsuite, Apache-2.0; see its NOTICE).
import ECRCredentials
import Foundation
import Testing

@Suite struct SigV4TestSuiteTests {
    static let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let signer = SigV4Signer(service: "service", region: "us-east-1")

    /// Every case directory: one holding a `.req` file named after it.
    static let cases: [String] = {
        let root = TestResources.url("aws4_testsuite")
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
        var found: [String] = []
        for case let url as URL in walker where url.pathExtension == "req" {
            found.append(url.deletingPathExtension().path)
        }
        return found.sorted()
    }()

    @Test func theWholeSuiteIsPresent() {
        #expect(Self.cases.count == 34)
    }

    @Test(arguments: cases)
    func matchesTheSuite(base: String) throws {
        let name = URL(fileURLWithPath: base).lastPathComponent
        let expectedCanonical = try String(contentsOfFile: base + ".creq", encoding: .utf8)
        let expectedStringToSign = try String(contentsOfFile: base + ".sts", encoding: .utf8)
        let expectedAuthorization = try String(contentsOfFile: base + ".authz", encoding: .utf8)
        var request = try Self.parse(try String(contentsOfFile: base + ".req", encoding: .utf8))

        // The session-token case gives its token only in the expected canonical request.
        if request.header("x-amz-security-token") == nil,
           let line = expectedCanonical.split(separator: "\n").first(where: { $0.hasPrefix("x-amz-security-token:") }) {
            request.headers.append(HTTPHeader("X-Amz-Security-Token", String(line.dropFirst("x-amz-security-token:".count))))
        }
        let amzDate = try #require(request.header("x-amz-date"))
        let canonical = Self.signer.canonicalRequest(for: request).text
        #expect(canonical == expectedCanonical, "canonical request of \(name)")
        #expect(Self.signer.stringToSign(canonicalRequest: canonical, amzDate: amzDate) == expectedStringToSign, "string to sign of \(name)")
        #expect(Self.signer.authorization(for: request, credentials: Self.credentials, amzDate: amzDate) == expectedAuthorization,
                "authorization of \(name)")
    }

    @Test func signAddsDateTokenAndAuthorization() throws {
        var request = HTTPRequest(method: "GET", authority: "example.amazonaws.com")
        let temporary = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: Self.credentials.secretAccessKey,
                                       sessionToken: "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267")
        Self.signer.sign(&request, credentials: temporary, at: Timestamp(timeIntervalSince1970: 1_440_938_160))
        let base = try #require(Self.cases.first { $0.hasSuffix("get-vanilla-with-session-token") })
        let expected = try String(contentsOfFile: base + ".authz", encoding: .utf8)
        #expect(request.header("x-amz-date") == "20150830T123600Z")
        #expect(request.header("authorization") == expected)
    }

    /// Reads a `.req` file: request line, headers (indented lines continue the one above), body.
    static func parse(_ text: String) throws -> HTTPRequest {
        let lines = text.components(separatedBy: "\n")
        let requestLine = try #require(lines.first)
        let method = String(requestLine.prefix { $0 != " " })
        let target = try #require(requestLine.dropFirst(method.count + 1).range(of: " HTTP/", options: .backwards))
        let rawTarget = String(requestLine.dropFirst(method.count + 1)[..<target.lowerBound])
        var path = rawTarget
        var query: [(name: String, value: String)] = []
        if let mark = rawTarget.firstIndex(of: "?") {
            path = String(rawTarget[..<mark])
            query = HTTPRequest.queryItems(rawTarget[rawTarget.index(after: mark)...])
        }
        var headers: [HTTPHeader] = []
        var index = 1
        while index < lines.count, !lines[index].isEmpty {
            let line = lines[index]
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].value += "\n" + line
            } else if let colon = line.firstIndex(of: ":") {
                headers.append(HTTPHeader(String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
            index += 1
        }
        let body = index + 1 < lines.count ? lines[(index + 1)...].joined(separator: "\n") : ""
        let host = try #require(headers.first { $0.name.lowercased() == "host" }).value
        headers.removeAll { $0.name.lowercased() == "host" }
        return HTTPRequest(method: method, authority: host, path: path, query: query, headers: headers, body: Array(body.utf8))
    }
}
