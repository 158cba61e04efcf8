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
    /// - Parameter requireRootOwned: refuse a config, bin directory or provider that a user other
    ///   than root owns or can write (`NodeDoctorSetup.requiresRootOwnedFiles`): the kubelet runs
    ///   providers as root, so such a file is itself the problem, and the doctor runs no provider from it.
    package func run(configPath: String, binDirectory: String, images: [String], preamble: [Doctor.Check] = [],
                    requireRootOwned: Bool = false) -> Doctor.Report {
        var checks = preamble
        let config: KubeletProviderConfig
        do {
            config = try KubeletProviderConfig(path: configPath)
            if requireRootOwned {
                let foreign = ([configPath] + config.files).compactMap(Self.foreignWriter(of:))
                if !foreign.isEmpty {
                    checks.append(Doctor.Check(name: "config", status: .problem, summary: foreign[0], details: Array(foreign.dropFirst()),
                                               hint: "make it root's alone (chown root, chmod go-w, and the same for every directory above it); "
                                                   + "the doctor runs no provider it names until then"))
                    return Doctor.Report(registry: nil, checks: checks)
                }
            }
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
        var foreign: [String] = []
        for provider in config.providers {
            let path = "\(binDirectory)/\(provider.name)"
            if requireRootOwned, Self.isExecutableFile(path), let writer = Self.foreignWriter(of: path) {
                foreign.append(writer)
            } else if Self.isExecutableFile(path) {
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
        let candidates = (try? PrivateFile.names(in: binDirectory))?.filter { $0.containsText("credential-provider") || $0.containsText("ecr") } ?? []
        if !foreign.isEmpty {
            checks.append(Doctor.Check(name: "bin-dir", status: .problem, summary: foreign[0], details: Array(foreign.dropFirst()) + binDetails,
                                       hint: "make it root's alone (chown root, chmod go-w, and the same for every directory above it); "
                                           + "the doctor does not run it until then"))
        } else {
        checks.append(Doctor.Check(
            name: "bin-dir", status: missing.isEmpty ? .ok : .problem,
            summary: missing.isEmpty ? "every provider is an executable in \(binDirectory)"
                : "the kubelet would run \(missing.joined(separator: ", ")), which \(missing.count == 1 ? "is" : "are") not an executable file",
            details: binDetails + (missing.isEmpty ? [] : ["\(binDirectory) holds: " + (candidates.isEmpty ? "nothing like a credential provider" : candidates.joined(separator: ", "))]),
            hint: missing.isEmpty ? nil : "a provider's name must be the file name of its executable in --image-credential-provider-bin-dir"
                + (candidates.isEmpty ? "" : " (here: \(candidates.joined(separator: " or ")))") + "; the kubelet pulls anonymously otherwise"))
        }

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
        var providerEnvironment = environment
        for (name, value) in provider.env { providerEnvironment[name] = value }
        let finding = RegistryCheck(transport: transport, timeouts: timeouts).run(
            image: target, password: password, tokenRegistry: tokenRegistry, secrets: RegistryCheck.secrets(in: providerEnvironment))
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
        // The provider may print what it was given: no secret of its environment reaches the report.
        let secrets = RegistryCheck.secrets(in: environment)
        let errors = SecretRedaction.secrets(secrets, in: String(decoding: result.errors.prefix(2000), as: UTF8.self))
            .split(separator: "\n").map { TerminalText.printable(String($0), limit: 400) }
        if result.timedOut {
            return problem("\(shown) did not answer within \(Int(providerTimeout)) s", errors, hint: "the kubelet gives up after a minute: see its stderr")
        }
        if let signal = result.signal {
            return problem("\(shown) was killed by signal \(signal)\(Self.signalName(signal).map { " (\($0))" } ?? "")", errors,
                           hint: "the kubelet logs this and pulls anonymously; the provider crashed or was killed")
        }
        guard result.status == 0 else {
            return problem("\(shown) exited with status \(result.status)", errors, hint: "the kubelet logs this stderr and pulls anonymously; fix what it says")
        }
        switch ProviderAnswer.decode(result.output, apiVersion: provider.apiVersion, image: lookup) {
        case .failure(let reason) where reason.noMatchingKey:
            return problem("the kubelet would find no credentials in the response of \(shown): \(reason)", errors,
                           hint: "the kubelet uses only an auth key that matches the image: it pulls \(lookup) anonymously (\"no basic auth credentials\")")
        case .failure(let reason):
            return problem("the kubelet would refuse the response of \(shown): \(reason)", errors,
                           hint: "the kubelet decodes strictly (\"error decoding credential provider plugin response\") and pulls anonymously")
        case .success(let answer):
            return (Doctor.Check(name: "provider", status: .ok,
                                 summary: "\(shown) answered \(answer.key) for \(lookup), cacheDuration \(answer.cacheDuration ?? "unset (defaultCacheDuration \(provider.defaultCacheDuration))")",
                                 details: [], hint: nil), answer.password, answer.key)
        }
    }

    /// The name of a common signal (`SIGSEGV`), for a provider it killed.
    static func signalName(_ signal: Int32) -> String? {
        let names: [Int32: String] = [SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP",
                                      SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV",
                                      SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM", SIGSYS: "SIGSYS", SIGXCPU: "SIGXCPU"]
        return names[signal]
    }

    /// Why a user other than root could change `path` (a provider, a config, or a directory
    /// above either, as given and as its symbolic links resolve), or nil when only root can:
    /// "/opt/x/bin/p is writable by uid 1000: anyone who can write it runs code as root at every pull".
    /// A directory that every user may write into but only an entry's owner may rename (the sticky
    /// bit, as /tmp) is root's enough, since what lies under it is checked too.
    static func foreignWriter(of path: String) -> String? {
        var chains = [path]
        if let resolved = realpath(path, nil) {
            defer { free(resolved) }
            let real = String(cString: resolved)
            if real != path { chains.append(real) }
        }
        for chain in chains where chain.hasPrefix("/") {
            var current = chain
            while true {
                if let who = writer(of: current) {
                    let shown = TerminalText.printable(current, limit: 300)
                    let place = current == path ? shown : "\(shown) (above \(TerminalText.printable(path, limit: 300)))"
                    return "\(place) is writable by \(who): anyone who can write it runs code as root at every pull"
                }
                guard let slash = current.lastIndex(of: "/"), current != "/" else { break }
                current = slash == current.startIndex ? "/" : String(current[..<slash])
            }
        }
        return nil
    }

    /// Who other than root can change the file or directory at `path` itself (not following a link); nil: no one.
    private static func writer(of path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        if info.st_uid != 0 { return "uid \(info.st_uid)" }
        if (info.st_mode & S_IFMT) == S_IFLNK { return nil }
        let sticky = (info.st_mode & S_IFMT) == S_IFDIR && (info.st_mode & S_ISVTX) != 0
        if info.st_mode & S_IWOTH != 0, !sticky { return "every user" }
        if info.st_mode & S_IWGRP != 0, info.st_gid != 0, !sticky { return "group \(info.st_gid)" }
        return nil
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
        let document: JSONDocument
        do {
            document = try JSONDocument(parsing: output)
        } catch {
            return fail("it is not JSON the kubelet reads: \(TerminalText.printable("\(error)", limit: 200))")
        }
        guard let members = document.members else { return fail("it is not a JSON object") }
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
            var refusal = Refusal("no auth key matches \(image) (keys: \(auth.map { TerminalText.printable($0.key, limit: 80) }.joined(separator: ", ")))")
            refusal.noMatchingKey = true
            return .failure(refusal)
        }
        return .success(Answer(key: match.key, password: password, cacheDuration: duration))
    }

    struct Refusal: Error, CustomStringConvertible {
        var description: String
        /// The response was valid but gave no credentials for the image: the kubelet pulls anonymously.
        var noMatchingKey = false
        init(_ description: String) { self.description = description }
    }
}
