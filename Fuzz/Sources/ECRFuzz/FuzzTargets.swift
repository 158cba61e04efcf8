// libFuzzer entry point: one binary, the target chosen by ECR_FUZZ_TARGET (see `scripts/fuzz`).
//
// Every target feeds bytes from outside (a client's stdin, a file, a server's reply, a child
// process's output) to the code that reads them, and then uses the result the way the helper
// does (timestamps formatted for debug lines, records encoded for the cache), so a value that
// parses but cannot be used is found as well. Nothing reaches the network: HTTP answers come
// from the fuzz input or fail.
@testable import ECRCredentials
import Foundation

/// The targets, by name.
let targets: [String: @Sendable ([UInt8]) -> Void] = [
    "registry": registry,
    "endpoint": endpoint,
    "helper": helper,
    "aws-config": awsConfig,
    "tool-config": toolConfig,
    "glob": glob,
    "ecr-json": ecrJSON,
    "sso-role": ssoRole,
    "sso-cache": ssoCache,
    "container-json": containerJSON,
    "imds": imds,
    "process-json": processJSON,
    "cache-record": cacheRecord,
    "kernel-payload": kernelPayload,
    "sts-xml": stsXML,
    "kubelet-request": kubeletRequest,
    "client-config": clientConfig,
    "mirror-map": mirrorMap,
    "registry-reply": registryReply,
    "kubelet-config": kubeletConfig,
    "kubelet-yaml": kubeletYAML,
    "kubelet-flags": kubeletFlags,
]

// MARK: the kubelet plugin and the workstation commands

/// A CredentialProviderRequest from the kubelet, then its image and service-account token as
/// the plugin reads them.
@Sendable func kubeletRequest(_ bytes: [UInt8]) {
    guard let request = try? CredentialProviderRequest(json: bytes) else { return }
    _ = try? CredentialProviderPlugin.registry(of: request.image)
    if let token = request.serviceAccountToken {
        let parsed = ServiceAccountToken(token)
        _ = parsed.owner
        _ = parsed.sessionName
    }
    for (_, value) in request.serviceAccountAnnotations { _ = CredentialProviderPlugin.isRoleARN(value) }
    _ = CredentialProviderResponse(apiVersion: request.apiVersion, cacheDuration: GoDuration(rounding: Double(bytes.count)),
                                   auth: [(key: request.image, username: "AWS", password: "p")]).json
}

/// docker's config.json as `configure` reads, changes and writes it: a document that parses
/// must survive being written and read back unchanged.
@Sendable func clientConfig(_ bytes: [UInt8]) {
    guard let document = try? JSONDocument(parsing: bytes) else { return }
    let written = document.text
    guard let again = try? JSONDocument(parsing: Array(written.utf8)), again == document else {
        fatalError("config.json did not read back as written")
    }
    guard document.members != nil else { return }
    let plan = ClientConfigurator.Plan(registries: ["123456789012.dkr.ecr.us-east-1.amazonaws.com"], credsStore: bytes.count % 2 == 0)
    if let outcome = try? ClientConfigurator.apply(plan, to: document, kind: .docker) {
        _ = ClientSetup.redacted(outcome.document).text
        _ = try? ClientConfigurator.apply(ClientConfigurator.Plan(registries: [], remove: true), to: outcome.document, kind: .docker)
    }
}

// MARK: mirrors and the pull check

/// `--mirror` mappings (one per line), NUL, an image: the map, the hosts.toml written for each
/// mirror, and the image followed through the map.
@Sendable func mirrorMap(_ bytes: [UInt8]) {
    let pieces = parts(bytes, 2)
    let lines = text(pieces[0]).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    for line in lines { _ = try? Mirror(parsing: line) }
    guard let map = try? MirrorMap(arguments: lines) else { return }
    for mirror in map.mirrors {
        // What containerd reads: every value quoted, no line a mapping could have added.
        let toml = ContainerdHosts.text(for: mirror)
        precondition(!toml.contains("\r") && !toml.utf8.contains(0), "hosts.toml carries a control character")
        precondition(toml.split(separator: "\n").count == ContainerdHosts.text(for: Mirror(upstream: "docker.io",
            registry: mirror.registry, prefix: "p", origin: "o")).split(separator: "\n").count,
            "a mapping changed the shape of hosts.toml")
        _ = Mirror.canonicalUpstream(mirror.upstream)
    }
    if let image = try? ImageReference(parsing: text(pieces[1])) {
        let followed = image.following(map)
        _ = followed.image.address.description
        _ = followed.mirror?.prefix
    }
}

/// A registry's answers to the pull check, in order (/v2/, the manifest HEAD and GET, a
/// platform's manifest, the config blob and its download), each `status byte, body`, parts
/// separated by NUL: every outcome is a finding with a summary and, for a problem, a hint.
@Sendable func registryReply(_ bytes: [UInt8]) {
    let statuses = [200, 201, 301, 302, 307, 400, 401, 403, 404, 405, 429, 500, 502, 503]
    let replies = parts(bytes, 7).map { piece -> HTTPResponse in
        let status = statuses[Int(piece.first ?? 0) % statuses.count]
        let headers = [HTTPHeader("Content-Type", "application/vnd.oci.image.index.v1+json"),
                       HTTPHeader("Location", "https://prod-us-west-2-starport-layer-bucket.s3.us-west-2.amazonaws.com/x")]
        return HTTPResponse(status: status, headers: headers, body: Array(piece.dropFirst()))
    }
    let check = RegistryCheck(transport: ScriptedTransport(replies), timeouts: HTTPTimeouts(connect: 1, total: 1),
                              platform: RegistryCheck.Platform(os: "linux", architecture: "amd64"))
    guard let image = try? ImageReference(parsing: "123456789012.dkr.ecr.us-west-2.amazonaws.com/team/app:1") else { return }
    let finding = check.run(image: image, password: "fuzz-password", tokenRegistry: ECRRegistry(host: "123456789012.dkr.ecr.us-west-2.amazonaws.com"))
    _ = finding.summary
    precondition(finding.pulls || finding.hint != nil, "a failing pull check has no hint")
    precondition(!finding.summary.contains("fuzz-password") && !(finding.hint ?? "").contains("fuzz-password"), "the password was echoed")
    _ = ECRDenial(message: text(bytes))
}

/// A kubelet CredentialProviderConfig (JSON) as the node doctor reads it, and its matchImages
/// against an image.
@Sendable func kubeletConfig(_ bytes: [UInt8]) {
    guard let providers = try? KubeletProviderConfig.providers(in: bytes, file: "config.json") else { return }
    for provider in providers {
        for pattern in provider.matchImages {
            _ = ImagePattern.problem(pattern)
            _ = ImagePattern.matches(pattern, image: "123456789012.dkr.ecr.us-west-2.amazonaws.com/app:1")
            _ = ImagePattern.closeness(pattern, image: "docker.io/library/busybox")
        }
    }
}

/// A kubelet config in YAML (libyaml, as the node doctor reads it): what parses is the same
/// value tree the JSON reader gives, and is then read as a provider config.
@Sendable func kubeletYAML(_ bytes: [UInt8]) {
    guard let yaml = try? YAMLReader(parsing: bytes) else { return }
    for (path, line) in yaml.lines { precondition(line >= 1, "\(path) has line \(line)") }
    // The value tree, written as JSON, reads back as itself.
    let written = yaml.document.text
    guard let again = try? JSONDocument(parsing: Array(written.utf8)), again == yaml.document else {
        fatalError("a YAML document's JSON form did not read back")
    }
    _ = try? KubeletProviderConfig.providers(in: bytes, file: "config.yaml")
}

/// The kubelet's flags as the node doctor finds them: an environment file (kubeadm, nodeadm,
/// /etc/default/kubelet), its words, MicroK8s's snap variables.
@Sendable func kubeletFlags(_ bytes: [UInt8]) {
    let text = text(bytes)
    for (_, value) in KubeletFlags.environmentFile(text) {
        let words = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        _ = KubeletFlags.flags(in: words)
    }
    _ = KubeletFlags.flags(in: text.split(separator: "\n").map(String.init))
    _ = KubeletFlags.expandingSnapVariables(text)
}

let selected: @Sendable ([UInt8]) -> Void = {
    let name = ProcessInfo.processInfo.environment["ECR_FUZZ_TARGET"] ?? ""
    guard let target = targets[name] else {
        let names = targets.keys.sorted().joined(separator: " ")
        FileHandle.standardError.write(Data("ecr-fuzz: set ECR_FUZZ_TARGET to one of: \(names)\n".utf8))
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selected(bytes)
    return 0
}

// MARK: shared pieces

/// The input as text, the way the helper reads stdin and files.
func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// Splits the input at NUL bytes into `count` parts (missing parts are empty).
func parts(_ bytes: [UInt8], _ count: Int) -> [[UInt8]] {
    var result = bytes.split(separator: 0, maxSplits: count - 1, omittingEmptySubsequences: false).map(Array.init)
    while result.count < count { result.append([]) }
    return result
}

/// Debug lines are built (so their formatting runs) and dropped.
let quietDebug = Diagnostics(level: .debug, sink: { _ in })

/// A clock that never moves and never sleeps: retries cost nothing.
struct FixedClock: WallClock {
    func now() -> Timestamp { Timestamp(timeIntervalSince1970: 1_800_000_000) }
    func sleep(seconds: Double) {}
}

/// Answers requests from a list of bodies, in order; fails once they run out.
final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    private var replies: [HTTPResponse]
    private let lock = NSLock()

    init(_ replies: [HTTPResponse]) { self.replies = replies }

    func send(_ request: HTTPRequest, timeouts: HTTPTimeouts) throws -> HTTPResponse {
        // A header a hostile server put a line break into must never be sent.
        for header in request.headers where header.value.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D }) {
            fatalError("header \(header.name) carries a line break")
        }
        let reply: HTTPResponse? = lock.withLock { replies.isEmpty ? nil : replies.removeFirst() }
        guard let reply else { throw HTTPTransportError(.connectionFailed, url: request.url, detail: "refused") }
        return reply
    }
}

/// What the helper does with credentials it obtained: expiry formatted for a debug line.
func use(_ credentials: AWSCredentials) {
    if let expiration = credentials.expiration {
        _ = Timestamp.iso8601(expiration)
    }
}

/// A private scratch directory for the targets that need files.
let scratch: String = {
    var template = Array("/tmp/ecr-fuzz.XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { fatalError("mkdtemp failed") }
    return String(cString: made)
}()

func write(_ bytes: [UInt8], to path: String) {
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { fatalError("cannot write \(path)") }
}

// MARK: targets

/// Registry addresses as clients send them, and the ECR recognition of their hosts.
func registry(_ bytes: [UInt8]) {
    let input = text(bytes)
    _ = ECRRegistry.isRegionName(input)
    _ = ECRRegistry(host: input)
    guard let address = try? RegistryAddress(parsing: input) else { return }
    // The host is docker's registry domain: dot-joined labels of letters, digits and '-' (not at
    // either end), or an IPv6 address (parsed from brackets: hex digits and ':').
    let host = address.host
    if host.contains(":") {
        precondition(host.unicodeScalars.allSatisfy { $0 == ":" || ($0.isASCII && Character($0).isHexDigit) }, "not IPv6: \(host)")
    } else {
        for label in host.split(separator: ".", omittingEmptySubsequences: false) {
            precondition(!label.isEmpty && !label.hasPrefix("-") && !label.hasSuffix("-")
                         && label.unicodeScalars.allSatisfy { $0.isASCII && (Character($0).isLetter || Character($0).isNumber || $0 == "-") },
                         "a host outside docker's grammar: \(host)")
        }
    }
    let key = CredentialHelper.registryKey(address)
    let stem = FileCredentialStore.fileStem(key)
    precondition(!stem.contains("/"), "a registry key made a file name with a slash: \(stem)")
    if let ecr = ECRRegistry(address: address) {
        _ = ecr.partition.ecrAPIHost(region: ecr.region, fips: ecr.fips, dualStack: ecr.dualStack)
        _ = ecr.accountID
    }
    _ = address.description
}

/// Endpoint URLs (AWS_ENDPOINT_URL*, the metadata endpoints).
func endpoint(_ bytes: [UInt8]) {
    guard let endpoint = try? Endpoint(parsing: text(bytes)) else { return }
    let request = HTTPRequest(method: "GET", endpoint: endpoint, path: "/latest/api/token")
    _ = request.url
    _ = endpoint.description
}

/// stdin of every action: the first byte picks get, store, erase or list; the rest is stdin.
/// Files live in a scratch directory emptied after each run; the network always fails.
func helper(_ bytes: [UInt8]) {
    guard let first = bytes.first else { return }
    let input = Array(bytes.dropFirst())
    let directory = scratch + "/helper"
    let environment = Environment(["HOME": directory, "AWS_ACCESS_KEY_ID": "AKIAFUZZ", "AWS_SECRET_ACCESS_KEY": "fuzz",
                                   "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": directory + "/none",
                                   "AWS_SHARED_CREDENTIALS_FILE": directory + "/none"])
    let configuration = HelperConfiguration(tokens: TokenSettings(cacheBackend: .file, tokenDirectory: directory + "/tokens"),
                                            loginDirectory: directory + "/logins")
    let helper = CredentialHelper(configuration: configuration, environment: environment, transport: ScriptedTransport([]),
                                  clock: FixedClock(), diagnostics: quietDebug)
    let actions: [HelperAction] = [.get, .store, .erase, .list]
    let action = actions[Int(first) % actions.count]
    if action == .list || first >= 128 {
        // Store first, so that get, erase and list meet a record made from the input.
        _ = helper.run(.store, input: input, diagnostics: quietDebug)
        if action != .store, let request = try? JSONSerialization.jsonObject(with: Data(input)) as? [String: Any],
           let url = request["ServerURL"] as? String {
            _ = helper.run(action, input: Array(url.utf8), diagnostics: quietDebug)
        }
    }
    let outcome = helper.run(action, input: input, diagnostics: quietDebug)
    precondition(outcome.exitCode == 0 || outcome.exitCode == 1)
    precondition(outcome.standardOutput.isEmpty || outcome.standardOutput.hasSuffix("\n"))
    _ = try? FileManager.default.removeItem(atPath: directory)
}

/// The AWS config and credentials files (INI), and the profile lookups made from them.
func awsConfig(_ bytes: [UInt8]) {
    guard let file = try? AWSConfigFile(path: "config", text: text(bytes)) else { return }
    let configuration = AWSConfiguration(configFile: file, credentialsFile: file, configPath: "config", credentialsPath: "credentials")
    for section in file.sections {
        _ = file.section(section.header)
        let words = section.header.split(separator: " ")
        if let name = words.last {
            if let profile = configuration.profile(named: String(name)) {
                for key in profile.values.keys { _ = profile.origin(of: key) }
            }
            _ = configuration.ssoSession(named: String(name))
            _ = configuration.services(named: String(name))
        }
    }
    _ = configuration.profile(named: "default")
}

/// The tool's config file, and the identity rules matched against registry hosts.
func toolConfig(_ bytes: [UInt8]) {
    let halves = parts(bytes, 2)
    guard let file = try? AWSConfigFile(path: "config", text: text(halves[0])),
          let config = try? ToolConfigFile(file) else { return }
    let host = text(halves[1])
    _ = config.identity(host: host, accountID: String(host.prefix(12)))
    _ = config.identity(host: "123456789012.dkr.ecr.us-west-2.amazonaws.com", accountID: "123456789012")
}

/// The glob matcher of the tool config: pattern, NUL, text.
func glob(_ bytes: [UInt8]) {
    let halves = parts(bytes, 2)
    let pattern = Substring(text(halves[0]))
    let subject = Substring(text(halves[1]))
    let matched = ToolConfigFile.glob(pattern, matches: subject)
    if !pattern.contains("*") { precondition(matched == (pattern == subject)) }
    if pattern == "*" { precondition(matched) }
}

/// GetAuthorizationToken replies of ECR (first byte even) and ECR Public (odd).
func ecrJSON(_ bytes: [UInt8]) {
    guard let first = bytes.first else { return }
    let isPublic = first & 1 == 1
    guard let token = try? ECRClient.decode(Array(bytes.dropFirst()), isPublic: isPublic, service: "ECR") else { return }
    // As the helper: a debug line with the expiry, then a cache record.
    _ = Timestamp.iso8601(token.expiresAt)
    let record = CredentialRecord(kind: .token, registry: "r", serverURL: "r", identity: "i", username: token.username,
                                  secret: token.password, issuedAt: 1_800_000_000, expiresAt: token.expiresAt.timeIntervalSince1970)
    _ = record.isFresh(at: 1_800_000_000)
    _ = try? record.writtenForm()
}

/// An SSO provider whose token cache is `cache`, with HTTP answers `replies`.
func ssoProvider(cache: [UInt8], replies: [HTTPResponse], session: String?) -> SSOCredentialProvider {
    let home = scratch + "/sso"
    let environment = Environment(["HOME": home, "AWS_CONFIG_FILE": home + "/none", "AWS_SHARED_CREDENTIALS_FILE": home + "/none"])
    let sender = AWSRequestSender(transport: ScriptedTransport(replies), clock: FixedClock(), diagnostics: quietDebug)
    let context = CredentialContext(environment: environment, configuration: ConfigurationLoader(environment: environment), sender: sender)
    let provider = SSOCredentialProvider(sessionName: session, startURL: "https://fuzz.awsapps.com/start", ssoRegion: "us-east-1",
                                         accountID: "123456789012", roleName: "Fuzz", profileName: "fuzz", context: context)
    try? FileManager.default.createDirectory(atPath: home + "/.aws/sso/cache", withIntermediateDirectories: true)
    write(cache, to: provider.tokenCachePath)
    return provider
}

/// SSO GetRoleCredentials replies.
func ssoRole(_ bytes: [UInt8]) {
    let cache = Array(#"{"accessToken":"tok","expiresAt":"2099-01-01T00:00:00Z"}"#.utf8)
    let provider = ssoProvider(cache: cache, replies: [HTTPResponse(status: 200, body: bytes)], session: nil)
    if let credentials = try? provider.credentials() { use(credentials) }
}

/// The SSO token cache file, NUL, an SSO OIDC CreateToken reply (used when the cached token is near expiry).
func ssoCache(_ bytes: [UInt8]) {
    let pieces = parts(bytes, 2)
    let role = Array(#"{"roleCredentials":{"accessKeyId":"AKIA","secretAccessKey":"s","sessionToken":"t","expiration":1800003600000}}"#.utf8)
    let provider = ssoProvider(cache: pieces[0], replies: [HTTPResponse(status: 200, body: pieces[1]), HTTPResponse(status: 200, body: role)],
                               session: "fuzz")
    if let credentials = try? provider.credentials() { use(credentials) }
}

/// Container credential endpoint replies (ECS, EKS Pod Identity).
func containerJSON(_ bytes: [UInt8]) {
    if let credentials = try? ContainerCredentialProvider.decode(bytes, source: "container") { use(credentials) }
}

/// The instance metadata service: session token, NUL, role list, NUL, credentials.
func imds(_ bytes: [UInt8]) {
    let pieces = parts(bytes, 3)
    let transport = ScriptedTransport(pieces.map { HTTPResponse(status: 200, body: $0) })
    let provider = InstanceMetadataCredentialProvider(endpoint: Endpoint(scheme: "http", authority: "127.0.0.1:1", basePath: ""),
                                                      allowsV1: true, transport: transport)
    if let credentials = try? provider.credentials() { use(credentials) }
}

/// What a credential_process prints, and its command line.
func processJSON(_ bytes: [UInt8]) {
    if let credentials = try? ProcessCredentialProvider.decode(bytes, source: "credential_process") { use(credentials) }
    _ = try? CommandLineWords.split(text(bytes))
}

/// A cache or login file, read as the helper reads it (and listed).
/// A key of the kernel keyring tier, as a process of the same user could have left it: what
/// parses must be usable, and write back to the same bytes' meaning.
@Sendable func kernelPayload(_ bytes: [UInt8]) {
    guard let kept = KernelKeyringStore.kept(from: bytes), case .record(let record) = kept.entry else { return }
    _ = record.isFresh(at: 1_800_000_000)
    _ = Timestamp.iso8601(Timestamp(timeIntervalSince1970: record.expiresAt ?? 0))
    _ = Timestamp.iso8601(Timestamp(timeIntervalSince1970: record.issuedAt))
    // Written back (times become whole seconds), it reads back as itself, and writes the same bytes.
    guard let written = KernelKeyringStore.payload(record, generation: kept.generation) else { return }
    guard let reread = KernelKeyringStore.kept(from: written), case .record(let again) = reread.entry, reread.generation == kept.generation,
          KernelKeyringStore.payload(again, generation: kept.generation) == written
    else { fatalError("a kernel keyring payload does not round-trip") }
}

func cacheRecord(_ bytes: [UInt8]) {
    let directory = scratch + "/records"
    let store = FileCredentialStore(directory: directory, diagnostics: quietDebug)
    try? PrivateFile.makeDirectory(directory)
    let path = store.path(kind: .token, registry: "reg.example", identity: "id")
    write(bytes, to: path)
    if let record = try? store.record(kind: .token, registry: "reg.example", identity: "id") {
        _ = record.isFresh(at: 1_800_000_000)
        _ = record.isUsable(at: 1_800_000_000, margin: 300)
        // As the helper's debug line on a cache hit.
        _ = Timestamp.iso8601(Timestamp(timeIntervalSince1970: record.expiresAt ?? 0))
        _ = Timestamp.iso8601(Timestamp(timeIntervalSince1970: record.issuedAt))
        // Written again, it reads back as itself.
        guard let written = try? record.writtenForm(),
              (try? CredentialRecord.decodeWrittenForm(written) ?? JSONInput.decode(CredentialRecord.self, from: written)) == record
        else { fatalError("a cache record does not read back as itself once written") }
    }
    for record in (try? store.allRecords()) ?? [] { _ = record.isUsable(at: 1_800_000_000, margin: 0) }
    _ = ECRPassword.expiration(of: text(bytes))
}

/// STS replies: the credentials in AssumeRole's XML, and error documents (XML or JSON).
func stsXML(_ bytes: [UInt8]) {
    let xml = text(bytes)
    if let credentials = try? STSClient.credentials(in: xml, operation: "AssumeRole") { use(credentials) }
    _ = XMLText.firstElement("Code", in: xml)
    _ = XMLText.unescape(xml)
    let error = AWSServiceError.parse(HTTPResponse(status: 400, body: bytes), service: "STS", operation: "AssumeRole")
    _ = error.description
}
