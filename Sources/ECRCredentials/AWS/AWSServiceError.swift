// An error answer from an AWS API, with advice a user can act on.

/// An AWS API answered with an error.
public struct AWSServiceError: Error, Sendable, CustomStringConvertible {
    /// The service, as users know it ("ECR", "ECR Public", "STS").
    public var service: String
    /// The operation ("GetAuthorizationToken").
    public var operation: String
    /// The HTTP status.
    public var status: Int
    /// The AWS error code ("AccessDeniedException"), after any `#` prefix.
    public var code: String
    /// AWS's message.
    public var message: String
    /// What the user can do about it, when known.
    public var advice: String?
    /// The answer's `Date` header, as sent: the service's clock, which tells how far off ours is.
    package var responseDate: String?
    /// The seconds the answer's `Retry-After` header asked to wait (0 to 3600), when it had one.
    package var retryAfter: Double?

    package init(service: String, operation: String, status: Int, code: String, message: String, advice: String? = nil) {
        self.service = service
        self.operation = operation
        self.status = status
        self.code = code
        self.message = message
        self.advice = advice ?? Self.generalAdvice(code: code, message: message)
    }

    /// The error with every occurrence of `secrets` (a secret key, a session token) in its
    /// message replaced by `<redacted>`, so no server can make one appear in a message.
    package func redacting(_ secrets: [String]) -> AWSServiceError {
        var copy = self
        copy.message = SecretRedaction.secrets(secrets, in: copy.message)
        copy.code = SecretRedaction.secrets(secrets, in: copy.code)
        return copy
    }

    /// Codes that mean "try again later".
    package static let retryableCodes: Set<String> = [
        "ThrottlingException", "Throttling", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
        "ServerException", "InternalFailure", "InternalError", "InternalServerError", "ServiceUnavailable",
        "ServiceUnavailableException", "RequestTimeout", "RequestTimeoutException", "IDPCommunicationError",
        "SlowDown", "EC2ThrottledException", "PriorRequestNotComplete",
    ]

    /// Whether trying again may help: throttling, server faults and 5xx answers.
    public var isRetryable: Bool {
        if Self.retryableCodes.contains(code) { return true }
        return [429, 500, 502, 503, 504].contains(status) && !Self.finalCodes.contains(code)
    }

    /// Codes that mean the caller asks too often (the account's token bucket is empty).
    package static let throttlingCodes: Set<String> = [
        "ThrottlingException", "Throttling", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
        "SlowDown", "EC2ThrottledException",
    ]

    /// Whether the answer is throttling: one of `throttlingCodes`, or HTTP 429.
    public var isThrottling: Bool {
        Self.throttlingCodes.contains(code) || (status == 429 && !Self.finalCodes.contains(code))
    }

    /// Codes that never change on a retry.
    static let finalCodes: Set<String> = [
        "AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "InvalidClientTokenId",
        "InvalidSignatureException", "SignatureDoesNotMatch", "ExpiredTokenException", "ExpiredToken",
        "IncompleteSignature", "MissingAuthenticationToken",
    ]

    /// For example "ECR GetAuthorizationToken failed: AccessDeniedException: ... ; attach ...".
    public var description: String {
        var text = "\(service) \(operation) failed: \(code)"
        if !message.isEmpty { text += ": \(message)" }
        if let advice { text += "; \(advice)" }
        return text
    }

    static func generalAdvice(code: String, message: String) -> String? {
        switch code {
        case "UnrecognizedClientException", "InvalidClientTokenId":
            return "AWS does not know this access key id: check the credentials in use (wrong account, deleted key, or a session token missing)"
        case "InvalidSignatureException", "SignatureDoesNotMatch", "IncompleteSignature":
            if message.lowercased().containsText("expired") || message.containsText("Signature not yet current") {
                return "the system clock is wrong: correct it (for example with chrony or systemd-timesyncd)"
            }
            return "the secret access key does not match the access key id"
        case "ExpiredTokenException", "ExpiredToken":
            return "the session credentials have expired: refresh them (for example `aws sso login`)"
        default:
            return nil
        }
    }

    /// Reads the error out of a non-2xx answer: JSON `{"__type": "...#Code", "message": ...}`,
    /// an XML `<Error><Code>` document, or the `x-amzn-ErrorType` header.
    /// `secrets` (what the request carried: keys, tokens) are redacted from the code and message
    /// before the message is cut to its length, so that no part of one is left at the cut.
    package static func parse(_ response: HTTPResponse, service: String, operation: String, redacting secrets: [String] = []) -> AWSServiceError {
        var code: String?
        var message: String?
        if let json = try? JSONInput.decode(JSONError.self, from: response.body) {
            code = json.type ?? json.code
            message = json.message ?? json.lowercaseMessage
        } else {
            let text = String(decoding: response.body, as: UTF8.self)
            code = XMLText.firstElement("Code", in: text)
            message = XMLText.firstElement("Message", in: text)
        }
        if code == nil, let header = response.header("x-amzn-ErrorType") {
            code = String(header.prefix { $0 != ":" })
        }
        var bare = code ?? "HTTP \(response.status)"
        if let hash = bare.lastIndex(of: "#") { bare = String(bare[bare.index(after: hash)...]) }
        if let colon = bare.firstIndex(of: ":") { bare = String(bare[..<colon]) }
        var error = AWSServiceError(service: service, operation: operation, status: response.status,
                                    code: String(Diagnostics.printable(SecretRedaction.secrets(secrets, in: bare)).prefix(100)),
                                    message: safeMessage(SecretRedaction.secrets(secrets, in: message ?? "")))
        error.responseDate = response.header("Date").map { String(Diagnostics.printable($0).prefix(64)) }
        error.retryAfter = response.header("Retry-After").flatMap { Int($0.trimmingASCIIWhitespace()) }
            .flatMap { (0...3600).contains($0) ? Double($0) : nil }
        return error
    }

    /// The longest message kept from a server.
    static let maximumMessageLength = 512

    /// A server's message made safe to show: only its first line, cut before any echo of the
    /// request (a SignatureDoesNotMatch answer can carry the canonical request, with the signed
    /// headers and the session token), without control characters or JSON Web Tokens (an echoed
    /// web identity token), at most 512 characters.
    static func safeMessage(_ message: String) -> String {
        var text = Substring(message)
        for marker in ["\n", "\r", "The Canonical String for this request", "The String-to-Sign should have been"] {
            if let range = text.firstRange(ofText: marker) { text = text[..<range.lowerBound] }
        }
        var safe = SecretRedaction.webTokens(in: TerminalText.printable(String(text))).trimmingASCIIWhitespace()
        if safe.count > maximumMessageLength { safe = String(safe.prefix(maximumMessageLength)) + "..." }
        return safe
    }

    private struct JSONError: Decodable {
        var type: String?
        var code: String?
        var message: String?
        var lowercaseMessage: String?

        enum CodingKeys: String, CodingKey {
            case type = "__type", code = "code", message = "Message", lowercaseMessage = "message"
        }
    }
}

/// Just enough XML for AWS Query APIs: the text of the first element with a given name.
package enum XMLText {
    /// The unescaped text of the first `<name>...</name>` in `document`, or nil.
    package static func firstElement(_ name: String, in document: String) -> String? {
        guard let open = document.firstRange(ofText: "<\(name)>") else { return nil }
        let rest = document[open.upperBound...]
        guard let close = rest.firstRange(ofText: "</\(name)>") else { return nil }
        return unescape(String(rest[..<close.lowerBound]))
    }

    /// The text of the first `<name>` element inside the first `<parent>` element.
    package static func firstElement(_ name: String, inside parent: String, in document: String) -> String? {
        guard let open = document.firstRange(ofText: "<\(parent)>"), let close = document.firstRange(ofText: "</\(parent)>"),
              open.upperBound <= close.lowerBound
        else { return nil }
        return firstElement(name, in: String(document[open.upperBound..<close.lowerBound]))
    }

    /// Replaces the five predefined entities and numeric character references.
    package static func unescape(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var output = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            output += rest[..<amp]
            let after = rest[amp...]
            guard let semicolon = after.firstIndex(of: ";"), after.distance(from: amp, to: semicolon) <= 10 else {
                output += "&"
                rest = rest[rest.index(after: amp)...]
                continue
            }
            let entity = after[after.index(after: amp)..<semicolon]
            var replacement: String?
            switch entity {
            case "amp": replacement = "&"
            case "lt": replacement = "<"
            case "gt": replacement = ">"
            case "quot": replacement = "\""
            case "apos": replacement = "'"
            default:
                if entity.hasPrefix("#x"), let value = UInt32(entity.dropFirst(2), radix: 16), let scalar = Unicode.Scalar(value) {
                    replacement = String(Character(scalar))
                } else if entity.hasPrefix("#"), let value = UInt32(entity.dropFirst()), let scalar = Unicode.Scalar(value) {
                    replacement = String(Character(scalar))
                }
            }
            if let replacement {
                output += replacement
                rest = after[after.index(after: semicolon)...]
            } else {
                output += "&"
                rest = rest[rest.index(after: amp)...]
            }
        }
        return output + rest
    }
}
