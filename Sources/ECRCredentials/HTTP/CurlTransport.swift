// HTTP over libcurl, which is loaded on the first request.
import CCurl

#if canImport(Glibc)
import Glibc
#endif

/// An `HTTPTransport` over libcurl's easy interface.
///
/// libcurl is opened with `dlopen` on the first `send`, so processes that answer from the cache
/// never load it. Proxy variables (`HTTPS_PROXY`, `NO_PROXY`, ...) are read by libcurl itself.
package struct CurlTransport: HTTPTransport {
    /// A CA bundle to trust instead of the system's (`AWS_CA_BUNDLE`).
    package var caBundle: String?
    /// The `User-Agent` header.
    package var userAgent: String

    package init(caBundle: String? = nil, userAgent: String) {
        self.caBundle = caBundle
        self.userAgent = userAgent
    }

    /// Sends a request with one libcurl easy handle.
    package func send(_ request: HTTPRequest, timeouts: HTTPTimeouts) throws -> HTTPResponse {
        let url = request.url
        let shownURL = String(url.prefix { $0 != "?" })
        var loadError = [CChar](repeating: 0, count: 256)
        guard ccurl_load(&loadError, loadError.count) == 0 else {
            let message = loadError.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw HTTPTransportError(.libraryUnavailable, url: shownURL, detail: message)
        }
        if let caBundle {
            // libcurl opens the bundle with a blocking open(2): a FIFO there would hang it.
            do {
                try PrivateFile.checkRegularFile(caBundle)
            } catch {
                throw HTTPTransportError(.tls, url: shownURL, detail: "the CA bundle (AWS_CA_BUNDLE) cannot be used: \(error)")
            }
        }
        let easy = try Easy(url: shownURL)
        try easy.configure(request: request, url: url, timeouts: timeouts, caBundle: caBundle, userAgent: userAgent)
        return try easy.perform()
    }
}

extension CurlTransport {
    /// One libcurl easy handle and every buffer it points into; freed together in `deinit`.
    /// Not thread-safe: one request, one thread.
    final class Easy {
        private let handle: UnsafeMutableRawPointer
        private let shownURL: String
        private var headerList: UnsafeMutablePointer<curl_slist>?
        private var strings: [UnsafeMutablePointer<CChar>] = []
        private var requestBody: UnsafeMutableRawBufferPointer?
        private var errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        fileprivate var responseBody: [UInt8] = []
        /// Set when an answer's body passed `maximumBody` and was cut off.
        fileprivate var bodyTooLarge = false
        /// The most bytes of a body kept: 4 MiB.
        static let maximumBody = 1 << 22
        fileprivate var responseHeaders: [HTTPHeader] = []

        init(url: String) throws {
            guard let handle = ccurl_easy_init() else {
                throw HTTPTransportError(.other, url: url, detail: "curl_easy_init failed")
            }
            self.handle = handle
            self.shownURL = url
            errorBuffer.initialize(to: 0)
        }

        deinit {
            ccurl_easy_cleanup(handle)
            ccurl_slist_free_all(headerList)
            strings.forEach { free($0) }
            requestBody?.deallocate()
            errorBuffer.deallocate()
        }

        /// Keeps a C copy of `text` alive as long as the handle.
        private func retained(_ text: String) -> UnsafeMutablePointer<CChar> {
            let copy = strdup(text)!
            strings.append(copy)
            return copy
        }

        private func set(_ option: CURLoption, _ value: Int) throws {
            try check(ccurl_easy_setopt_long(handle, option, value), "setopt \(option.rawValue)")
        }

        private func set(_ option: CURLoption, _ value: String) throws {
            try check(ccurl_easy_setopt_pointer(handle, option, retained(value)), "setopt \(option.rawValue)")
        }

        private func check(_ code: CURLcode, _ what: String) throws {
            guard code == CURLE_OK else {
                throw HTTPTransportError(.other, url: shownURL, detail: "\(what): \(String(cString: ccurl_easy_strerror(code)))")
            }
        }

        func configure(request: HTTPRequest, url: String, timeouts: HTTPTimeouts, caBundle: String?, userAgent: String) throws {
            try set(CURLOPT_URL, url)
            try set(CURLOPT_NOSIGNAL, 1)
            try set(CURLOPT_CONNECTTIMEOUT_MS, Int(timeouts.connect * 1000))
            try set(CURLOPT_TIMEOUT_MS, Int(timeouts.total * 1000))
            try set(CURLOPT_FOLLOWLOCATION, 0)
            try check(ccurl_easy_restrict_to_http(handle), "restrict protocols")
            try set(CURLOPT_USERAGENT, userAgent)
            try check(ccurl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer), "errorbuffer")
            if let caBundle { try set(CURLOPT_CAINFO, caBundle) }

            switch request.method {
            case "GET": try set(CURLOPT_HTTPGET, 1)
            // A HEAD answer has headers only: without NOBODY libcurl would wait for a body.
            case "HEAD": try set(CURLOPT_NOBODY, 1)
            case "POST": try set(CURLOPT_POST, 1)
            default: try set(CURLOPT_CUSTOMREQUEST, request.method)
            }
            if request.method != "GET" && request.method != "HEAD" {
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(request.body.count, 1), alignment: 1)
                buffer.copyBytes(from: request.body)
                requestBody = buffer
                try check(ccurl_easy_setopt_pointer(handle, CURLOPT_POSTFIELDS, buffer.baseAddress), "postfields")
                try check(ccurl_easy_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)), "postfieldsize")
            }

            // Send exactly the headers that were signed: an explicit Host and Content-Type (libcurl
            // would otherwise add a form Content-Type), no Accept or Expect of its own.
            var lines = ["Host: \(request.authority)", "Accept:", "Expect:"]
            if request.method != "GET" && request.method != "HEAD" && request.header("content-type") == nil { lines.append("Content-Type:") }
            lines += request.headers.filter { $0.name.lowercased() != "host" }.map { "\($0.name): \($0.value)" }
            for line in lines {
                // Values come partly from files and servers: a line break would inject a header.
                guard !line.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else {
                    throw HTTPTransportError(.other, url: shownURL, detail: "a header value contains a line break; not sent")
                }
                guard let appended = ccurl_slist_append(headerList, line) else {
                    throw HTTPTransportError(.other, url: shownURL, detail: "curl_slist_append failed")
                }
                headerList = appended
            }
            try check(ccurl_easy_setopt_pointer(handle, CURLOPT_HTTPHEADER, headerList), "httpheader")

            let context = Unmanaged.passUnretained(self).toOpaque()
            try check(ccurl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, context), "writedata")
            try check(ccurl_easy_setopt_callback(handle, CURLOPT_WRITEFUNCTION, { data, size, count, context in
                let easy = Unmanaged<Easy>.fromOpaque(context!).takeUnretainedValue()
                let length = size * count
                guard easy.responseBody.count + length <= Easy.maximumBody else {
                    easy.bodyTooLarge = true
                    return 0
                }
                easy.responseBody.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
                return length
            }), "writefunction")
            try check(ccurl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, context), "headerdata")
            try check(ccurl_easy_setopt_callback(handle, CURLOPT_HEADERFUNCTION, { data, size, count, context in
                let easy = Unmanaged<Easy>.fromOpaque(context!).takeUnretainedValue()
                let length = size * count
                let line = String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
                if line.hasPrefix("HTTP/") {
                    easy.responseHeaders.removeAll()  // a new response (after 100 Continue)
                } else if let colon = line.firstIndex(of: ":") {
                    easy.responseHeaders.append(HTTPHeader(String(line[..<colon]),
                                                           line[line.index(after: colon)...].trimmingASCIIWhitespace()))
                }
                return length
            }), "headerfunction")
        }

        func perform() throws -> HTTPResponse {
            let code = ccurl_easy_perform(handle)
            if code != CURLE_OK, bodyTooLarge {
                throw HTTPTransportError(.responseTooLarge, url: shownURL, detail: "\(Self.maximumBody) bytes")
            }
            guard code == CURLE_OK else {
                var detail = errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: ccurl_easy_strerror(code))
                var systemError = 0
                if ccurl_easy_getinfo_long(handle, CURLINFO_OS_ERRNO, &systemError) == CURLE_OK, systemError != 0 {
                    detail += " (\(String(cString: strerror(Int32(systemError)))))"
                }
                // libcurl quotes what it was given, a proxy URL with its password among it.
                throw HTTPTransportError(Self.classify(code), url: shownURL, detail: SecretRedaction.urls(in: detail))
            }
            var status = 0
            try check(ccurl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status), "response code")
            return HTTPResponse(status: status, headers: responseHeaders, body: responseBody)
        }

        static func classify(_ code: CURLcode) -> HTTPTransportError.Code {
            switch code {
            case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: return .hostNotFound
            case CURLE_COULDNT_CONNECT: return .connectionFailed
            case CURLE_OPERATION_TIMEDOUT: return .timedOut
            case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
                 CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE:
                return .tls
            default: return .other
            }
        }
    }
}
