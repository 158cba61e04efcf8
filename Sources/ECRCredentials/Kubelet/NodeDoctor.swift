// `ecr-credential-provider doctor`: the node's view of a pull, from the kubelet's config to the registry.

#if canImport(Glibc)
import Glibc
#endif

/// Checks what the kubelet does for an image, in its order: the credential provider config
/// (read with the kubelet's rules), the provider executables in the bin directory, which
/// provider matches the image, the provider run as the kubelet runs it (its `args`, the
/// kubelet's environment plus its `env`, a request of its `apiVersion`) with its response decoded strictly,
/// and the pull check with the password it answered (following `--mirror` mappings to ECR).
package struct NodeDoctor: Sendable {
    private let transport: any HTTPTransport
    private let timeouts: HTTPTimeouts
    private let environment: [String: String]
    private let providerTimeout: Double

    /// Creates a doctor.
    /// - Parameters:
    ///   - environment: the kubelet's environment, which the provider runs with (plus its `env`).
    ///   - providerTimeout: the kubelet's limit for one provider run, one minute.
    package init(transport: any HTTPTransport, timeouts: HTTPTimeouts, environment: [String: String], providerTimeout: Double = 60) {
        self.transport = transport
        self.timeouts = timeouts
        self.environment = environment
        self.providerTimeout = providerTimeout
    }

    /// Runs every check for `images` with the config at `configPath` and the bin directory,
    /// after `preamble` (the `flags` and `environment` checks of `NodeDoctorSetup`).
    package func run(configPath: String, binDirectory: String, images: [String], preamble: [Doctor.Check] = []) -> Doctor.Report {
        var checks = preamble
        let config: KubeletProviderConfig
        do {
            config = try KubeletProviderConfig(path: configPath)
            checks.append(Doctor.Check(name: "config", status: .ok,
                                       summary: "\(config.providers.count) provider\(config.providers.count == 1 ? "" : "s") in \(config.files.joined(separator: ", "))",
                                       details: config.providers.map { "\($0.name): \($0.apiVersion), matchImages \($0.matchImages.joined(separator: " "))" },
                                       hint: nil))
        } catch {
            checks.append(Doctor.Check(name: "config", status: .problem, summary: "\(error)", details: [],
                                       hint: "fix it: the kubelet refuses the whole config, runs no provider, and every ECR pull is anonymous (\"no basic auth credentials\")"))
            return Doctor.Report(registry: nil, checks: checks)
        }
        var runnable: Set<String> = []
        var binDetails: [String] = []
        var missing: [String] = []
        for provider in config.providers {
            let path = "\(binDirectory)/\(provider.name)"
            if Self.isExecutableFile(path) {
                runnable.insert(provider.name)
                binDetails.append("\(path) is executable")
            } else {
                missing.append(path)
            }
            if provider.tokenAttributes {
                binDetails.append("\(provider.name) has tokenAttributes: the kubelet needs Kubernetes 1.33 (alpha, feature gate "
                                  + "KubeletServiceAccountTokenForCredentialProviders) or 1.34+ (beta, on by default)")
            }
        }
        let candidates = (try? PrivateFile.names(in: binDirectory))?.filter { $0.contains("credential-provider") || $0.contains("ecr") } ?? []
        checks.append(Doctor.Check(
            name: "bin-dir", status: missing.isEmpty ? .ok : .problem,
            summary: missing.isEmpty ? "every provider is an executable in \(binDirectory)"
                : "the kubelet would run \(missing.joined(separator: ", ")), which \(missing.count == 1 ? "is" : "are") not an executable file",
            details: binDetails + (missing.isEmpty ? [] : ["\(binDirectory) holds: " + (candidates.isEmpty ? "nothing like a credential provider" : candidates.joined(separator: ", "))]),
            hint: missing.isEmpty ? nil : "a provider's name must be the file name of its executable in --image-credential-provider-bin-dir"
                + (candidates.isEmpty ? "" : " (here: \(candidates.joined(separator: " or ")))") + "; the kubelet pulls anonymously otherwise"))

        for input in images {
            checks += imageChecks(input, config: config, runnable: runnable, binDirectory: binDirectory)
        }
        return Doctor.Report(registry: nil, checks: checks)
    }

    private func imageChecks(_ input: String, config: KubeletProviderConfig, runnable: Set<String>, binDirectory: String) -> [Doctor.Check] {
        let image: ImageReference
        do {
            image = try ImageReference(parsing: input)
        } catch {
            return [Doctor.Check(name: "match", status: .problem, summary: "\(error)", details: [], hint: "give the image as a pod spec names it")]
        }
        // What the kubelet sends and matches: the image without its tag.
        let lookup = "\(image.address)/\(image.repository)" + (image.digest.map { "@\($0)" } ?? "")
        let matching = config.providers.filter { provider in provider.matchImages.contains { ImagePattern.matches($0, image: lookup) } }
        guard let provider = matching.first(where: { runnable.contains($0.name) }) ?? matching.first else {
            let closest = config.providers.flatMap { provider in provider.matchImages.map { ($0, provider.name) } }
                .max { ImagePattern.closeness($0.0, image: lookup) < ImagePattern.closeness($1.0, image: lookup) }
            return [Doctor.Check(name: "match", status: .problem, summary: "no provider's matchImages covers \(image.address)",
                                 details: closest.map { ["closest: \($0.0) (\($0.1))"] } ?? [],
                                 hint: "add \(image.address.host) (or a pattern such as *.dkr.ecr.*.amazonaws.com) to matchImages; the kubelet "
                                     + "runs no provider for \(image) and the pull is anonymous (\"no basic auth credentials\")")]
        }
        var checks = [Doctor.Check(name: "match", status: .ok, summary: "\(provider.name) answers \(lookup)",
                                   details: matching.count > 1 ? ["several providers match (\(matching.map(\.name).joined(separator: ", "))): the kubelet runs each and tries their credentials in turn"] : [],
                                   hint: nil)]
        guard runnable.contains(provider.name) else { return checks }
        let (providerCheck, password, authKey) = runProvider(provider, lookup: lookup, binDirectory: binDirectory)
        checks.append(providerCheck)
        guard let password, let authKey else { return checks }

        let mirrors = PluginArguments(provider.args).flatMap { try? $0.mirrorMap(config: nil) } ?? .empty
        let (target, mirror) = image.following(mirrors)
        guard ECRRegistry(address: target.address) != nil else {
            checks.append(Doctor.Check(name: "pull", status: .problem, summary: "\(target.address) is not an Amazon ECR registry, so not checked",
                                       details: [], hint: "map it to ECR with --mirror in the provider's args", pull: Doctor.PullAnswer(finding: nil, step: nil)))
            return checks
        }
        let keyHost = (try? RegistryAddress(parsing: authKey))?.host ?? authKey
        let tokenRegistry = ECRRegistry(host: keyHost) ?? mirror?.registry
        let finding = RegistryCheck(transport: transport, timeouts: timeouts).run(image: target, password: password, tokenRegistry: tokenRegistry)
        var details = mirror.map { ["\(image.address) is mirrored by \($0.target) (\($0.origin))"] } ?? []
        if finding.row == .tokenRefused, tokenRegistry == nil {
            // A pattern key says nothing of where the token came from: name the likely cause.
            details.append("\(provider.name) answered the key \(TerminalText.printable(authKey, limit: 120)), a pattern, not \(target.address.host): "
                           + "its token is valid only in the region and account it was fetched for, and ECR refuses it everywhere else "
                           + "(a provider fixed to one AWS_REGION or account answers so)")
        }
        checks.append(Doctor.check(for: finding, details: details))
        return checks
    }

    /// Runs `provider` as the kubelet does; the check, and the password and auth key it answered for the image.
    private func runProvider(_ provider: KubeletProviderConfig.Provider, lookup: String, binDirectory: String) -> (Doctor.Check, String?, String?) {
        let path = "\(binDirectory)/\(provider.name)"
        let request = "{\"kind\":\"CredentialProviderRequest\",\"apiVersion\":\(JSONText.quote(provider.apiVersion)),\"image\":\(JSONText.quote(lookup))}"
        var environment = self.environment
        for (name, value) in provider.env { environment[name] = value }
        let shown = ([path] + provider.args).joined(separator: " ")
        func problem(_ summary: String, _ details: [String] = [], hint: String) -> (Doctor.Check, String?, String?) {
            (Doctor.Check(name: "provider", status: .problem, summary: summary, details: details, hint: hint), nil, nil)
        }
        let result: ChildProcess.Result
        do {
            result = try ChildProcess.run([path] + provider.args, environment: environment, timeout: providerTimeout, input: Array(request.utf8))
        } catch {
            return problem("\(error)", hint: "the kubelet cannot run it either")
        }
        let errors = String(decoding: result.errors.prefix(2000), as: UTF8.self).split(separator: "\n").map { TerminalText.printable(String($0), limit: 400) }
        if result.timedOut {
            return problem("\(shown) did not answer within \(Int(providerTimeout)) s", errors, hint: "the kubelet gives up after a minute: see its stderr")
        }
        guard result.status == 0 else {
            return problem("\(shown) exited with status \(result.status)", errors, hint: "the kubelet logs this stderr and pulls anonymously; fix what it says")
        }
        switch ProviderAnswer.decode(result.output, apiVersion: provider.apiVersion, image: lookup) {
        case .failure(let reason):
            return problem("the kubelet would refuse the response of \(shown): \(reason)", errors,
                           hint: "the kubelet decodes strictly (\"error decoding credential provider plugin response\") and pulls anonymously")
        case .success(let answer):
            return (Doctor.Check(name: "provider", status: .ok,
                                 summary: "\(shown) answered \(answer.key) for \(lookup), cacheDuration \(answer.cacheDuration ?? "unset (defaultCacheDuration \(provider.defaultCacheDuration))")",
                                 details: [], hint: nil), answer.password, answer.key)
        }
    }

    static func isExecutableFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && access(path, X_OK) == 0
    }
}

/// A provider's response, decoded as strictly as the kubelet decodes it.
enum ProviderAnswer {
    struct Answer {
        var key: String
        var password: String
        var cacheDuration: String?
    }

    static func decode(_ output: [UInt8], apiVersion: String, image: String) -> Result<Answer, Refusal> {
        func fail(_ reason: String) -> Result<Answer, Refusal> { .failure(Refusal(reason)) }
        guard !output.allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) }) else { return fail("it printed nothing") }
        guard let document = try? JSONDocument(parsing: output), let members = document.members else { return fail("it is not a JSON object") }
        let known = ["kind", "apiVersion", "cacheKeyType", "cacheDuration", "auth"]
        if let unknown = members.first(where: { !known.contains($0.key) }) {
            return fail("unknown field \"\(TerminalText.printable(unknown.key, limit: 80))\"")
        }
        guard document["kind"]?.stringValue == "CredentialProviderResponse" else { return fail("kind is not CredentialProviderResponse") }
        guard let version = document["apiVersion"]?.stringValue, version == apiVersion else {
            return fail("apiVersion \(TerminalText.printable(document["apiVersion"]?.stringValue ?? "missing", limit: 80)) is not the configured \(apiVersion)")
        }
        guard let keyType = document["cacheKeyType"]?.stringValue, ["Image", "Registry", "Global"].contains(keyType) else {
            return fail("cacheKeyType must be Image, Registry or Global")
        }
        let duration = document["cacheDuration"]?.stringValue
        if let duration, (try? GoDuration(parsing: duration)) == nil { return fail("cacheDuration \(TerminalText.printable(duration, limit: 80)) is not a duration") }
        guard let auth = document["auth"]?.members else { return fail("auth is not an object") }
        for entry in auth {
            guard let fields = entry.value.members, fields.allSatisfy({ ["username", "password"].contains($0.key) }),
                  fields.allSatisfy({ $0.value.stringValue != nil }) else { return fail("auth[\(TerminalText.printable(entry.key, limit: 80))] must be {username, password}") }
        }
        guard let match = auth.first(where: { ImagePattern.matches($0.key, image: image) }), let password = match.value["password"]?.stringValue else {
            return fail("no auth key matches \(image) (keys: \(auth.map { TerminalText.printable($0.key, limit: 80) }.joined(separator: ", ")))")
        }
        return .success(Answer(key: match.key, password: password, cacheDuration: duration))
    }

    struct Refusal: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
