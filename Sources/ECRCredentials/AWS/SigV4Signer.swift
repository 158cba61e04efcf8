// AWS Signature Version 4 for request headers.

/// Signs requests with AWS Signature Version 4 (header form).
///
/// Every header of the request is signed, plus `host`, `x-amz-date` and, for temporary
/// credentials, `x-amz-security-token`, which `sign` adds first. The path is normalised and
/// percent-encoded once, as the AWS test suite expects for every service but S3.
package struct SigV4Signer: Sendable {
    /// The signing name of the service, such as `ecr`, `ecr-public` or `sts`.
    package var service: String
    /// The signing region.
    package var region: String

    /// The algorithm name in the `Authorization` header.
    package static let algorithm = "AWS4-HMAC-SHA256"

    /// Creates a signer for a service in a region.
    package init(service: String, region: String) {
        self.service = service
        self.region = region
    }

    /// Adds `X-Amz-Date`, `X-Amz-Security-Token` (temporary credentials) and `Authorization`.
    package func sign(_ request: inout HTTPRequest, credentials: AWSCredentials, at date: Timestamp) {
        let amzDate = Timestamp.amzDate(date)
        request.headers.removeAll {
            let name = $0.name.lowercased()
            return name == "authorization" || name == "x-amz-date" || name == "x-amz-security-token"
        }
        request.headers.append(HTTPHeader("X-Amz-Date", amzDate))
        if let token = credentials.sessionToken {
            request.headers.append(HTTPHeader("X-Amz-Security-Token", token))
        }
        request.headers.append(HTTPHeader("Authorization", authorization(for: request, credentials: credentials, amzDate: amzDate)))
    }

    /// The `Authorization` header value for a request that already carries `X-Amz-Date`.
    package func authorization(for request: HTTPRequest, credentials: AWSCredentials, amzDate: String) -> String {
        let canonical = canonicalRequest(for: request)
        let scope = credentialScope(amzDate: amzDate)
        let toSign = stringToSign(canonicalRequest: canonical.text, amzDate: amzDate)
        let signature = Hex.encode(Digest.hmacSHA256(key: signingKey(secret: credentials.secretAccessKey, amzDate: amzDate),
                                                     message: Array(toSign.utf8)))
        return "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
    }

    /// `yyyymmdd/region/service/aws4_request`.
    package func credentialScope(amzDate: String) -> String {
        "\(amzDate.prefix(8))/\(region)/\(service)/aws4_request"
    }

    /// The canonical request and the `;`-joined names of the signed headers.
    package func canonicalRequest(for request: HTTPRequest) -> (text: String, signedHeaders: String) {
        // Header names lower-cased; values trimmed with inner runs of white space folded to one
        // space; repeated headers joined by "," in their order; sorted by name.
        var values: [String: [String]] = ["host": [request.authority]]
        for header in request.headers {
            let name = header.name.lowercased()
            if name == "host" || name == "authorization" { continue }
            values[name, default: []].append(Self.foldWhitespace(header.value))
        }
        let names = values.keys.sorted()
        let headerBlock = names.map { "\($0):\(values[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")

        let encoded: [(name: String, value: String)] = request.query.map {
            (PercentEncoding.encode($0.name), PercentEncoding.encode($0.value))
        }
        let query = encoded
            .sorted { (lhs, rhs) -> Bool in lhs.name == rhs.name ? lhs.value < rhs.value : lhs.name < rhs.name }
            .map { "\($0.name)=\($0.value)" }
            .joined(separator: "&")
        let payloadHash = Hex.encode(Digest.sha256(request.body))
        let text = [request.method, Self.canonicalPath(request.path), query, headerBlock, signedHeaders, payloadHash]
            .joined(separator: "\n")
        return (text, signedHeaders)
    }

    /// The string to sign for a canonical request.
    package func stringToSign(canonicalRequest: String, amzDate: String) -> String {
        let hash = Hex.encode(Digest.sha256(Array(canonicalRequest.utf8)))
        return "\(Self.algorithm)\n\(amzDate)\n\(credentialScope(amzDate: amzDate))\n\(hash)"
    }

    /// The derived key: HMAC chain over date, region, service and `aws4_request`.
    func signingKey(secret: String, amzDate: String) -> [UInt8] {
        var key = Array("AWS4\(secret)".utf8)
        for part in [String(amzDate.prefix(8)), region, service, "aws4_request"] {
            key = Digest.hmacSHA256(key: key, message: Array(part.utf8))
        }
        return key
    }

    /// Removes `.` and `..` segments and empty segments, then percent-encodes each segment.
    static func canonicalPath(_ path: String) -> String {
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(segment)
            }
        }
        var result = "/" + segments.map { PercentEncoding.encode(String($0)) }.joined(separator: "/")
        if path.hasSuffix("/") && !segments.isEmpty { result += "/" }
        return result
    }

    /// Trims a header value and folds each run of spaces, tabs and line breaks into one space.
    static func foldWhitespace(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
            .joined(separator: " ")
    }
}
