// Sends signed AWS requests, retrying throttling, server faults and dropped connections.

/// Sends requests to AWS APIs: signs each attempt afresh, retries what is retryable, and turns
/// error answers into `AWSServiceError`.
package struct AWSRequestSender: Sendable {
    /// The network.
    package var transport: any HTTPTransport
    /// The clock that dates signatures and times pauses.
    package var clock: any WallClock
    /// When to try again.
    package var retry: RetryPolicy
    /// Time limits of each attempt.
    package var timeouts: HTTPTimeouts
    /// Where debug lines go.
    package var diagnostics: Diagnostics
    /// The jitter of the pauses between attempts.
    package var random: any RandomSource

    package init(transport: any HTTPTransport, clock: any WallClock = SystemClock(), retry: RetryPolicy = RetryPolicy(),
                timeouts: HTTPTimeouts = HTTPTimeouts(), diagnostics: Diagnostics = Diagnostics(),
                random: any RandomSource = SystemRandomSource()) {
        self.transport = transport
        self.clock = clock
        self.retry = retry
        self.timeouts = timeouts
        self.diagnostics = diagnostics
        self.random = random
    }

    /// Sends `request`, signed with `credentials` when a signer is given, and returns a 2xx answer.
    /// - Parameters:
    ///   - service: the service's name for messages ("ECR").
    ///   - operation: the operation's name for messages ("GetAuthorizationToken").
    /// - Throws: `AWSServiceError` for an error answer, `HTTPTransportError` when none came.
    package func send(_ request: HTTPRequest, signer: SigV4Signer?, credentials: AWSCredentials?,
                     service: String, operation: String) throws -> HTTPResponse {
        var attempt = 1
        // Throttled attempts are counted apart: under `retry.throttling` they have a budget of their own.
        var throttled = 0
        while true {
            var signed = request
            if let signer, let credentials {
                signer.sign(&signed, credentials: credentials, at: clock.now())
            }
            let started = MonotonicTime.seconds()
            let failure: any Error
            do {
                let response = try transport.send(signed, timeouts: timeouts)
                let elapsed = Int((MonotonicTime.seconds() - started) * 1000)
                diagnostics.debug("\(service) \(operation): HTTP \(response.status) from \(request.scheme)://\(request.authority) in \(elapsed) ms (attempt \(attempt))")
                if (200..<300).contains(response.status) { return response }
                let secrets = [credentials?.secretAccessKey, credentials?.sessionToken].compactMap { $0 } + Self.secretParameters(of: request)
                let error = AWSServiceError.parse(response, service: service, operation: operation, redacting: secrets)
                guard error.isRetryable else { throw error }
                failure = error
            } catch let error as HTTPTransportError {
                diagnostics.debug("\(service) \(operation): \(error) (attempt \(attempt))")
                // A refused or reset connection is worth another try; an endpoint that let a whole
                // attempt time out is not worth making a pull wait that long again.
                guard error.isTransient, error.code != .timedOut else { throw error }
                failure = error
            }
            let pause: Double
            if let backoff = retry.throttling, let error = failure as? AWSServiceError, error.isThrottling {
                throttled += 1
                guard let wait = backoff.delay(afterAttempt: throttled, now: clock.now(), retryAfter: error.retryAfter, random: random) else {
                    throw failure
                }
                pause = wait
            } else {
                guard attempt - throttled < retry.maximumAttempts else { throw failure }
                pause = retry.delay(afterAttempt: attempt - throttled, random: random)
            }
            diagnostics.debug("\(service) \(operation): retrying in \(Int(pause * 1000)) ms")
            clock.sleep(seconds: pause)
            attempt += 1
        }
    }

    /// The secrets a request carries in its body, as sent: the values of a form's `...Token`
    /// parameters (the web identity token of AssumeRoleWithWebIdentity), and of a JSON body's
    /// members named like a secret (`clientSecret`, `refreshToken`, `deviceCode`, ... of SSO OIDC).
    /// A server that echoes the request must not put them in a message.
    static func secretParameters(of request: HTTPRequest) -> [String] {
        let body = String(decoding: request.body, as: UTF8.self)
        if body.hasPrefix("{") {
            guard let members = (try? JSONDocument(parsing: request.body))?.members else { return [] }
            return members.compactMap { member in
                let name = member.key.lowercased()
                guard name.containsText("secret") || name.containsText("token") || name.hasSuffix("code") || name.containsText("verifier") else { return nil }
                return member.value.stringValue
            }
        }
        guard body.containsText("Token=") else { return [] }
        var values: [String] = []
        for pair in body.split(separator: "&") {
            guard let equals = pair.firstIndex(of: "="), pair[..<equals].hasSuffix("Token") else { continue }
            values.append(String(pair[pair.index(after: equals)...]))
        }
        return values
    }
}
