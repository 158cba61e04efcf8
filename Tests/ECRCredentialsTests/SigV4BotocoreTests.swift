// Our signatures of the requests this tool sends, checked against botocore's.
import ECRCredentials
import Foundation
import Testing

@Suite struct SigV4BotocoreTests {
    struct Case {
        var name: String
        var request: HTTPRequest
        var service: String
        var region: String
        var credentials: AWSCredentials
    }

    static let longTerm = AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let temporary = AWSCredentials(accessKeyID: "ASIAIOSFODNN7EXAMPLE", secretAccessKey: "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
                                          sessionToken: "FwoGZXIvYXdzEJr//////////wEaDEXAMPLETOKEN+/=")

    static func json(_ endpoint: String, _ target: String) throws -> HTTPRequest {
        HTTPRequest(method: "POST", endpoint: try Endpoint(parsing: endpoint),
                    headers: [HTTPHeader("Content-Type", "application/x-amz-json-1.1"), HTTPHeader("X-Amz-Target", target)],
                    body: Array("{}".utf8))
    }

    static func cases() throws -> [Case] {
        let ecr = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
        let form = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fpull&RoleSessionName=docker-credential-ecr"
        let sts = HTTPRequest(method: "POST", endpoint: try Endpoint(parsing: "https://sts.eu-west-1.amazonaws.com"),
                              headers: [HTTPHeader("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
                              body: Array(form.utf8))
        return [
            Case(name: "ECR", request: try json("https://api.ecr.us-west-2.amazonaws.com", ecr), service: "ecr", region: "us-west-2", credentials: longTerm),
            Case(name: "ECR, temporary credentials", request: try json("https://api.ecr.eu-central-1.amazonaws.com", ecr), service: "ecr", region: "eu-central-1", credentials: temporary),
            Case(name: "ECR China", request: try json("https://api.ecr.cn-north-1.amazonaws.com.cn", ecr), service: "ecr", region: "cn-north-1", credentials: longTerm),
            Case(name: "ECR on a loopback port", request: try json("http://127.0.0.1:5000", ecr), service: "ecr", region: "us-east-1", credentials: temporary),
            Case(name: "ECR Public", request: try json("https://api.ecr-public.us-east-1.amazonaws.com", "SpencerFrontendService.GetAuthorizationToken"), service: "ecr-public", region: "us-east-1", credentials: longTerm),
            Case(name: "STS AssumeRole", request: sts, service: "sts", region: "eu-west-1", credentials: temporary),
        ]
    }

    @Test func signaturesMatchBotocore() throws {
        let time = 1_763_812_800.0  // 2025-11-22T12:00:00Z
        let cases = try Self.cases()
        var payload: [[String: Any]] = []
        var ours: [HTTPRequest] = []
        for item in cases {
            var signed = item.request
            SigV4Signer(service: item.service, region: item.region).sign(&signed, credentials: item.credentials, at: Timestamp(timeIntervalSince1970: time))
            ours.append(signed)
            var entry: [String: Any] = [
                "method": item.request.method, "url": item.request.url,
                "headers": item.request.headers.map { [$0.name, $0.value] },
                "body": String(decoding: item.request.body, as: UTF8.self),
                "access_key": item.credentials.accessKeyID, "secret_key": item.credentials.secretAccessKey,
                "service": item.service, "region": item.region, "time": time,
            ]
            if let token = item.credentials.sessionToken { entry["token"] = token }
            payload.append(entry)
        }
        let output = try Python.run(script: TestResources.url("botocore_sign.py").path,
                                    input: try JSONSerialization.data(withJSONObject: payload))
        let theirs = try #require(try JSONSerialization.jsonObject(with: output) as? [[String: String]])
        #expect(theirs.count == cases.count)
        for (index, item) in cases.enumerated() where index < theirs.count {
            #expect(ours[index].header("authorization") == theirs[index]["Authorization"], "\(item.name)")
            #expect(ours[index].header("x-amz-date") == theirs[index]["X-Amz-Date"], "\(item.name)")
            #expect(ours[index].header("x-amz-security-token") == theirs[index]["X-Amz-Security-Token"], "\(item.name)")
        }
    }
}

/// Runs python3 scripts from the tests. A missing python3 or module fails the test: these are
/// required peers, never skipped.
enum Python {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func run(script: String, input: Data) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script]
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "python3 \(script) failed (install botocore: pip install botocore): "
                          + String(decoding: errors, as: UTF8.self))
        }
        return output
    }
}
