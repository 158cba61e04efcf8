// The pull check: ask an ECR registry, as a pull would, whether an image will pull with a token.

#if canImport(Glibc)
import Glibc
#endif

/// Asks the registry what a pull asks, stopping at the first answer a pull could not get past:
/// `GET /v2/`, `HEAD` then `GET` of the manifest (with the OCI and docker `Accept` types), for an
/// index the manifest of this machine's platform, and the config blob, whose redirect is followed
/// once, without the token, to the download it names. Layers are never fetched.
///
/// Every request goes through the injected `HTTPTransport` (libcurl in the tools, with the CA
/// bundle and proxies of the AWS calls) with the same timeouts, so the whole check is bounded by
/// six requests' time.
package struct RegistryCheck: Sendable {
    /// An image platform (`linux/amd64`, `linux/arm64/v8`).
    package struct Platform: Sendable, Equatable, CustomStringConvertible {
        /// `linux`.
        package var os: String
        /// `amd64`, `arm64`, ...
        package var architecture: String
        /// `v8`, `v7`, ... when it matters.
        package var variant: String?

        /// Creates a platform.
        package init(os: String, architecture: String, variant: String? = nil) {
            self.os = os
            self.architecture = architecture
            self.variant = variant
        }

        /// This machine's: Linux and the architecture `uname` reports, in Go's names.
        package static var host: Platform {
            var name = utsname()
            uname(&name)
            let machine = withUnsafeBytes(of: &name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            switch machine {
            case "x86_64": return Platform(os: "linux", architecture: "amd64")
            case "aarch64", "arm64": return Platform(os: "linux", architecture: "arm64")
            case "armv7l": return Platform(os: "linux", architecture: "arm", variant: "v7")
            case "s390x", "ppc64le", "riscv64": return Platform(os: "linux", architecture: machine)
            default: return Platform(os: "linux", architecture: machine)
            }
        }

        /// `os/architecture[/variant]`.
        package var description: String { "\(os)/\(architecture)" + (variant.map { "/\($0)" } ?? "") }
    }

    /// The manifest types a pull accepts, OCI and docker, index and single.
    package static let manifestTypes = [
        "application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json",
    ]

    private let transport: any HTTPTransport
    private let timeouts: HTTPTimeouts
    private let platform: Platform
    private let rules: (@Sendable (ECRRegistry) throws -> [PullThroughCacheRule])?

    /// Creates a check.
    /// - Parameters:
    ///   - transport: the HTTP boundary (`CurlTransport` in the tools).
    ///   - timeouts: per request; the AWS calls' (`TokenSettings.requestTimeouts`).
    ///   - platform: the manifest chosen from an index; this machine's by default.
    ///   - rules: reads a registry's pull-through cache rules, to explain a missing repository; nil: not read.
    package init(transport: any HTTPTransport, timeouts: HTTPTimeouts, platform: Platform = .host,
                rules: (@Sendable (ECRRegistry) throws -> [PullThroughCacheRule])? = nil) {
        self.transport = transport
        self.timeouts = timeouts
        self.platform = platform
        self.rules = rules
    }

    /// Checks `image` (an ECR image: follow mirrors first) with the password of an ECR token
    /// issued for `tokenRegistry` (for the 401 finding); never throws: every outcome is a finding.
    /// - Parameter secrets: more secrets no answer may show (the AWS secret key and session token
    ///   the token was fetched with: `RegistryCheck.secrets(in:)`); the password is always one.
    package func run(image: ImageReference, password: String, tokenRegistry: ECRRegistry? = nil, secrets: [String] = []) -> PullFinding {
        var finding = check(image: image, password: password)
        finding.redact(Self.sentForms(of: password) + secrets)
        finding.tokenRegistry = tokenRegistry
        if finding.row == .noRepository, let registry = ECRRegistry(address: image.address), let rules {
            finding.rules = Self.lookup(repository: image.repository, in: registry, rules)
        }
        return finding
    }

    /// The password as a registry could echo it: as is, and the `Basic` credentials it is sent in
    /// (base64 of `AWS:PASSWORD`, with and without the scheme). Pieces of each are redacted too.
    static func sentForms(of password: String) -> [String] {
        let basic = Base64.encode("AWS:\(password)".utf8)
        // Longest first: the header as a whole, then its base64, then the password.
        return ["Basic " + basic, basic, password]
    }

    /// The secret values of an environment that a provider or the AWS calls were given:
    /// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_SECURITY_TOKEN`, and any variable whose
    /// name contains SECRET, TOKEN, PASSWORD or KEY (but not a key's id, `AWS_ACCESS_KEY_ID`: an
    /// identifier, which access-key-id redaction covers), when its value is 8 characters or more.
    package static func secrets(in environment: [String: String]) -> [String] {
        let named = ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"]
        return environment.filter { name, value in
            let upper = name.uppercased()
            return value.utf8.count >= 8 && !upper.hasSuffix("KEY_ID")
                && (named.contains(upper) || ["SECRET", "TOKEN", "PASSWORD", "KEY"].contains { upper.containsText($0) })
        }.map(\.value).sorted()
    }

    private func check(image: ImageReference, password: String) -> PullFinding {
        let authorization = HTTPHeader("Authorization", "Basic " + Base64.encode("AWS:\(password)".utf8))
        let accept = HTTPHeader("Accept", Self.manifestTypes.joined(separator: ", "))
        let authority = image.address.description
        var notes: [String] = []
        func request(_ method: String, _ path: String, _ headers: [HTTPHeader]) -> HTTPRequest {
            HTTPRequest(method: method, authority: authority, path: path, headers: headers)
        }
        func finish(_ finding: PullFinding) -> PullFinding {
            var finding = finding
            finding.notes = notes
            return finding
        }

        // 1. The registry and the token.
        switch send(request("GET", "/v2/", [authorization]), step: .registry, image: image) {
        case .failure(let failure): return finish(failure.finding)
        case .success(let response):
            guard response.status == 200 else { return finish(Self.classify(response, step: .registry, image: image)) }
        }

        // 2. The manifest the tag or digest names: resolve (HEAD) as containerd does, then fetch.
        let manifestPath = "/v2/\(image.repository)/manifests/\(image.reference)"
        switch send(request("HEAD", manifestPath, [authorization, accept]), step: .manifest, image: image) {
        case .failure(let failure): return finish(failure.finding)
        case .success(let response) where !(200...299).contains(response.status):
            // A HEAD answer has no body: ask again for ECR's error document.
            if case .success(let full) = send(request("GET", manifestPath, [authorization, accept]), step: .manifest, image: image),
               !(200...299).contains(full.status) {
                return finish(Self.classify(full, step: .manifest, image: image))
            }
            return finish(Self.classify(response, step: .manifest, image: image))
        case .success: break
        }
        var manifest: Manifest
        switch fetchManifest(request("GET", manifestPath, [authorization, accept]), step: .manifest, image: image) {
        case .failure(let failure): return finish(failure.finding)
        case .success(let found): manifest = found
        }

        // 3. For an index, this platform's manifest.
        if let entries = manifest.manifests {
            let candidates = entries.filter { $0.platform?.os == platform.os && $0.platform?.architecture == platform.architecture }
            let chosen = candidates.first { platform.variant == nil || $0.platform?.variant == platform.variant } ?? candidates.first
            guard let chosen, let digest = chosen.digest, ImageReference.isDigest(digest) else {
                let listed = entries.compactMap { entry in entry.platform.map { "\($0.os ?? "?")/\($0.architecture ?? "?")" } }
                notes.append("the index lists: " + (listed.isEmpty ? "no platforms" : listed.joined(separator: ", ")))
                return finish(PullFinding(row: .noPlatform, step: .manifest, image: image))
            }
            notes.append("index: \(platform) is \(digest)")
            switch fetchManifest(request("GET", "/v2/\(image.repository)/manifests/\(digest)", [authorization, accept]),
                                 step: .platformManifest, image: image) {
            case .failure(let failure): return finish(failure.finding)
            case .success(let found): manifest = found
            }
        }
        guard let config = manifest.config?.digest, ImageReference.isDigest(config) else {
            notes.append("the manifest names no config blob")
            return finish(PullFinding(row: .unexpected, step: manifest.manifests == nil ? .manifest : .platformManifest, image: image))
        }

        // 4. The config blob: ECR answers with a redirect to a signed download URL.
        let blob: HTTPResponse
        switch send(request("GET", "/v2/\(image.repository)/blobs/\(config)", [authorization]), step: .configBlob, image: image) {
        case .failure(let failure): return finish(failure.finding)
        case .success(let response): blob = response
        }
        if (200...299).contains(blob.status) {
            notes.append("the registry served the config blob itself")
            return finish(PullFinding(row: .pulls, step: .configBlob, image: image, httpStatus: blob.status))
        }
        guard [301, 302, 303, 307, 308].contains(blob.status) else { return finish(Self.classify(blob, step: .configBlob, image: image)) }
        if let location = blob.header("Location"), Self.hasUserInfo(location) {
            // A signed download URL never carries user info: such a Location is neither shown nor followed.
            notes.append("the redirect's Location \(TerminalText.printable(SecretRedaction.url(location), limit: 300)) carries user info "
                         + "(a name or password before the host), which no ECR download URL has: not followed")
            return finish(PullFinding(row: .unexpected, step: .configBlob, image: image, httpStatus: blob.status))
        }
        guard let location = blob.header("Location"), let target = Self.downloadRequest(location) else {
            notes.append("the redirect has no https Location")
            return finish(PullFinding(row: .unexpected, step: .configBlob, image: image, httpStatus: blob.status))
        }
        notes.append("config blob \(config) redirects to \(target.authority)")
        // The signed URL carries its own authorization: the token must not go along.
        switch send(target, step: .download, image: image) {
        case .failure(let failure): return finish(failure.finding)
        case .success(let response) where (200...299).contains(response.status):
            return finish(PullFinding(row: .pulls, step: .download, image: image, httpStatus: response.status))
        case .success(let response):
            return finish(PullFinding(row: .unexpected, step: .download, image: image, httpStatus: response.status,
                                      errorMessage: Self.downloadMessage(response.body)))
        }
    }

    // MARK: requests

    private func send(_ request: HTTPRequest, step: PullStep, image: ImageReference) -> Result<HTTPResponse, FindingError> {
        do {
            return .success(try transport.send(request, timeouts: timeouts))
        } catch let error as HTTPTransportError {
            let row: PullFinding.Row = switch error.code {
            case .tls: .tls
            case .timedOut: .timeout
            case .responseTooLarge: .unexpected
            default: .unreachable
            }
            return .failure(FindingError(PullFinding(row: row, step: step, image: image, transportError: error)))
        } catch {
            let transport = HTTPTransportError(.other, url: request.url, detail: "\(error)")
            return .failure(FindingError(PullFinding(row: .unreachable, step: step, image: image, transportError: transport)))
        }
    }

    private func fetchManifest(_ request: HTTPRequest, step: PullStep, image: ImageReference) -> Result<Manifest, FindingError> {
        switch send(request, step: step, image: image) {
        case .failure(let finding): return .failure(finding)
        case .success(let response):
            guard (200...299).contains(response.status) else { return .failure(FindingError(Self.classify(response, step: step, image: image))) }
            guard let manifest = try? JSONInput.decode(Manifest.self, from: response.body) else {
                var finding = PullFinding(row: .unexpected, step: step, image: image, httpStatus: response.status)
                finding.notes = ["the manifest is not JSON a pull can read"]
                return .failure(FindingError(finding))
            }
            return .success(manifest)
        }
    }

    /// A finding carried through `Result`.
    struct FindingError: Error {
        var finding: PullFinding
        init(_ finding: PullFinding) { self.finding = finding }
    }

    // MARK: answers

    /// The finding for a non-success answer, decided on its status and ECR's error code.
    static func classify(_ response: HTTPResponse, step: PullStep, image: ImageReference) -> PullFinding {
        let error = (try? JSONInput.decode(ErrorDocument.self, from: response.body))?.errors?.first
        // What the server sent is made printable first, and the denial read from that: no escape
        // sequence reaches a summary, a hint or a JSON field.
        // (Not cut yet: a secret cut in two would escape redaction; the summary and fields are cut later.)
        let code = error?.code.map { TerminalText.printable($0) }
        let message = error?.message.map { TerminalText.printable($0) }
        var finding = PullFinding(row: .unexpected, step: step, image: image, httpStatus: response.status,
                                  errorCode: code, errorMessage: message)
        switch (response.status, code) {
        case (401, _):
            finding.row = .tokenRefused
        case (403, _):
            let denial = ECRDenial(message: message ?? "")
            finding.denial = denial
            finding.row = row(for: denial)
        case (404, "NAME_UNKNOWN"):
            finding.row = .noRepository
        case (404, "MANIFEST_UNKNOWN"):
            finding.row = .noImage
        default:
            break
        }
        return finding
    }

    /// The hint row of a denial, from its action and the policy that said no.
    static func row(for denial: ECRDenial) -> PullFinding.Row {
        switch denial.action {
        case "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer":
            return denial.cause.isResourcePolicy ? .repositoryPolicy : .pullOnly
        case "ecr:BatchImportUpstreamImage", "ecr:CreateRepository":
            return .pullThrough
        case let action? where action.hasPrefix("kms:"):
            return .kmsKey
        default:
            return .otherAction
        }
    }

    /// What the rules say about a missing `repository` of `registry`.
    static func lookup(repository: String, in registry: ECRRegistry,
                       _ read: (ECRRegistry) throws -> [PullThroughCacheRule]) -> PullThroughRuleLookup {
        guard let slash = repository.firstIndex(of: "/") else { return .notChecked }
        let rules: [PullThroughCacheRule]
        do {
            rules = try read(registry)
        } catch {
            return .unreadable("\(error)")
        }
        let prefixes = rules.map(\.ecrRepositoryPrefix).filter { $0 != "ROOT" }
        if let rule = rules.filter({ $0.ecrRepositoryPrefix != "ROOT" && repository.hasPrefix($0.ecrRepositoryPrefix + "/") })
            .max(by: { $0.ecrRepositoryPrefix.count < $1.ecrRepositoryPrefix.count }) {
            return .rule(rule)
        }
        return .noRule(prefix: String(repository[..<slash]), prefixes: prefixes)
    }

    /// Whether a URL's authority holds user info (`https://user:password@host/...`).
    static func hasUserInfo(_ location: String) -> Bool {
        let rest = location.firstRange(ofText: "://").map { location[$0.upperBound...] } ?? location[...]
        return rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }.contains("@")
    }

    /// The request for a redirect's `Location`: https only, without the token, never with user info.
    static func downloadRequest(_ location: String) -> HTTPRequest? {
        guard location.hasPrefix("https://"), !hasUserInfo(location) else { return nil }
        let rest = location.dropFirst("https://".count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        guard !authority.isEmpty, (try? RegistryAddress(parsing: String(authority))) != nil else { return nil }
        var pathAndQuery = rest.dropFirst(authority.count)
        var query: [(name: String, value: String)] = []
        if let mark = pathAndQuery.firstIndex(of: "?") {
            query = HTTPRequest.queryItems(pathAndQuery[pathAndQuery.index(after: mark)...])
            pathAndQuery = pathAndQuery[..<mark]
        }
        let path = PercentEncoding.decode(pathAndQuery.isEmpty ? "/" : pathAndQuery)
        return HTTPRequest(method: "GET", authority: String(authority), path: path, query: query)
    }

    /// S3's `<Code>` and `<Message>`, when a download failed with one.
    static func downloadMessage(_ body: [UInt8]) -> String? {
        let text = String(decoding: body.prefix(4096), as: UTF8.self)
        func element(_ name: String) -> Substring? {
            guard let start = text.firstRange(ofText: "<\(name)>"), let end = text[start.upperBound...].firstRange(ofText: "</\(name)>") else { return nil }
            return text[start.upperBound..<end.lowerBound]
        }
        guard let code = element("Code") else { return nil }
        return code + (element("Message").map { ": \($0)" } ?? "")
    }

    // MARK: wire types

    struct ErrorDocument: Decodable {
        struct Entry: Decodable {
            var code: String?
            var message: String?
        }
        var errors: [Entry]?
    }

    struct Manifest: Decodable {
        struct Descriptor: Decodable {
            struct PlatformField: Decodable {
                var os: String?
                var architecture: String?
                var variant: String?
            }
            var digest: String?
            var platform: PlatformField?
        }
        var manifests: [Descriptor]?
        var config: Descriptor?
    }
}
