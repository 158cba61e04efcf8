// An HTTPTransport that answers from a script and records what it was sent.
import Foundation
import ECRCredentials
import Synchronization

/// Answers each request with the next scripted result; records every request.
final class MockTransport: HTTPTransport {
    enum Reply: Sendable {
        case response(HTTPResponse)
        case failure(HTTPTransportError)
    }

    private let state: Mutex<(replies: [Reply], requests: [HTTPRequest])>

    init(_ replies: [Reply] = []) {
        state = Mutex((replies, []))
    }

    /// Requests sent so far.
    var requests: [HTTPRequest] { state.withLock { $0.requests } }

    func enqueue(_ reply: Reply) {
        state.withLock { $0.replies.append(reply) }
    }

    func send(_ request: HTTPRequest, timeouts: HTTPTimeouts) throws -> HTTPResponse {
        let reply: Reply? = state.withLock {
            $0.requests.append(request)
            return $0.replies.isEmpty ? nil : $0.replies.removeFirst()
        }
        switch reply {
        case .response(let response): return response
        case .failure(let error): throw error
        case nil: throw HTTPTransportError(.connectionFailed, url: request.url, detail: "no scripted reply")
        }
    }

    /// A GetAuthorizationToken reply for `password`, expiring at `expiresAt` (seconds since 1970).
    static func ecrToken(_ password: String, expiresAt: Double, isPublic: Bool = false) -> Reply {
        let token = Base64.encode(Array("AWS:\(password)".utf8))
        let data = "{\"authorizationToken\":\"\(token)\",\"expiresAt\":\(expiresAt),\"proxyEndpoint\":\"https://x\"}"
        let body = isPublic ? "{\"authorizationData\":\(data)}" : "{\"authorizationData\":[\(data)]}"
        return .response(HTTPResponse(status: 200, body: Array(body.utf8)))
    }

    /// A JSON error reply.
    static func error(_ status: Int, _ code: String, _ message: String) -> Reply {
        .response(HTTPResponse(status: status, body: Array("{\"__type\":\"com.amazonaws#\(code)\",\"message\":\"\(message)\"}".utf8)))
    }
}

/// A clock whose time moves only when told to; sleeping advances it.
final class ManualClock: WallClock {
    private let state: Mutex<(now: Double, slept: [Double])>

    init(_ now: Double = 1_800_000_000) {
        state = Mutex((now, []))
    }

    var slept: [Double] { state.withLock { $0.slept } }

    func advance(_ seconds: Double) {
        state.withLock { $0.now += seconds }
    }

    func now() -> Timestamp { Timestamp(timeIntervalSince1970: state.withLock { $0.now }) }

    func sleep(seconds: Double) {
        state.withLock {
            $0.slept.append(seconds)
            $0.now += seconds
        }
    }
}

/// Base64 for test fixtures.
enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }
}
