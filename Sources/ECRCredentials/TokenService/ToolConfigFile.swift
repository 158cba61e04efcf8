// This tool's own configuration file: which AWS identity serves which registry.

/// `$XDG_CONFIG_HOME/docker-credential-ecr/config` (or `DOCKER_CREDENTIAL_ECR_CONFIG`), in the
/// same INI dialect as `~/.aws/config`:
///
/// ```
/// [registry 123456789012.dkr.ecr.us-east-1.amazonaws.com]
/// profile = prod
///
/// [registry *.dkr.ecr.eu-*.amazonaws.com]
/// role_arn = arn:aws:iam::210987654321:role/ecr-pull
/// external_id = 7c1e
///
/// [account 210987654321]
/// profile = partner
///
/// [mirror docker.io]
/// target = 123456789012.dkr.ecr.us-east-1.amazonaws.com/docker-hub
/// ```
///
/// A registry's identity comes from the most specific match: an exact `[registry HOST]`, then
/// `[registry PATTERN]` (`*` matches within one dot-separated label; fewer `*` wins, then the
/// longer pattern), then `[account ID]`. `[mirror UPSTREAM]` sections map an upstream registry
/// to an ECR registry and repository prefix (see `MirrorMap`), for the kubelet plugin.
package struct ToolConfigFile: Sendable {
    /// The AWS identity a registry's tokens are fetched with.
    package struct RegistryIdentity: Sendable, Equatable {
        /// The AWS profile to use instead of the default chain.
        package var profile: String?
        /// A role to assume on top of that (or of the default chain's credentials).
        package var roleARN: String?
        /// The role's external id.
        package var externalID: String?
        /// The role session name.
        package var sessionName: String?
        /// The role session duration (900 to 43200 s).
        package var durationSeconds: Int?
        /// The region of the STS call.
        package var region: String?
        /// Where the rule came from, for messages.
        package var origin: String

        package init(profile: String? = nil, roleARN: String? = nil, externalID: String? = nil, sessionName: String? = nil,
                    durationSeconds: Int? = nil, region: String? = nil, origin: String) {
            self.profile = profile
            self.roleARN = roleARN
            self.externalID = externalID
            self.sessionName = sessionName
            self.durationSeconds = durationSeconds
            self.region = region
            self.origin = origin
        }
    }

    /// A setting the file does not know, or a value it cannot use.
    package struct InvalidSetting: Error, Sendable, CustomStringConvertible {
        /// The file.
        package var path: String
        /// The line of the section.
        package var line: Int
        /// What is wrong.
        package var reason: String
        /// For example "/home/u/.config/docker-credential-ecr/config:4: unknown setting rol_arn in [registry x]".
        package var description: String { "\(path):\(line): \(reason)" }
    }

    static let identityKeys: Set<String> = ["profile", "role_arn", "external_id", "role_session_name", "duration_seconds", "region"]

    /// The file's path.
    package let path: String
    private let exact: [String: RegistryIdentity]
    private let patterns: [(pattern: [Substring], stars: Int, length: Int, identity: RegistryIdentity)]
    private let accounts: [String: RegistryIdentity]
    /// The `[cache]` section's settings (`backend = ...`).
    package let cacheSettings: [String: String]
    /// The `[mirror UPSTREAM]` sections.
    package let mirrors: MirrorMap

    /// The file's path for this environment.
    package static func path(environment: Environment) -> String {
        environment["DOCKER_CREDENTIAL_ECR_CONFIG"] ?? environment.configHome + "/docker-credential-ecr/config"
    }

    /// Reads the file; nil when it does not exist.
    /// - Throws: `SystemError`, `AWSConfigFile.ParseError` or `InvalidSetting`, naming the file and line.
    package static func load(environment: Environment) throws -> ToolConfigFile? {
        guard let file = try AWSConfigFile.load(path: path(environment: environment)) else { return nil }
        return try ToolConfigFile(file)
    }

    /// Interprets a parsed file.
    package init(_ file: AWSConfigFile) throws {
        path = file.path
        var exact: [String: RegistryIdentity] = [:]
        var patterns: [(pattern: [Substring], stars: Int, length: Int, identity: RegistryIdentity)] = []
        var accounts: [String: RegistryIdentity] = [:]
        var cache: [String: String] = [:]
        var mirrors = MirrorMap()
        for section in file.sections {
            func fail(_ reason: String) -> InvalidSetting { InvalidSetting(path: file.path, line: section.line, reason: reason) }
            let words = section.header.split(separator: " ", maxSplits: 1)
            let kind = words.first.map(String.init) ?? ""
            let subject = words.count > 1 ? words[1].lowercased() : ""
            switch kind {
            case "cache" where subject.isEmpty:
                cache = section.values
                continue
            case "mirror":
                guard !subject.isEmpty else { throw fail("[mirror] needs an upstream registry host, such as [mirror docker.io]") }
                for key in section.values.keys where key != "target" {
                    throw fail("unknown setting \(key) in [\(section.header)]; use target = ECR_HOST/PREFIX")
                }
                guard let target = section.values["target"], !target.isEmpty else {
                    throw fail("[\(section.header)] needs target = ECR_HOST/PREFIX, such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/docker-hub")
                }
                do {
                    try mirrors.add(try Mirror(upstream: subject, target: target, origin: "\(file.path):\(section.line) [\(section.header)]"))
                } catch let error as Mirror.InvalidMapping {
                    throw fail("[\(section.header)]: \(error.reason)")
                }
                continue
            case "registry", "account":
                guard !subject.isEmpty else { throw fail("[\(kind)] needs a \(kind == "registry" ? "host or pattern" : "12-digit account id")") }
            default:
                throw fail("unknown section [\(section.header)]; use [registry HOST], [account ID], [mirror UPSTREAM] or [cache]")
            }
            for key in section.values.keys where !Self.identityKeys.contains(key) {
                throw fail("unknown setting \(key) in [\(section.header)]; use \(Self.identityKeys.sorted().joined(separator: ", "))")
            }
            var duration: Int?
            if let text = section.values["duration_seconds"] {
                guard let value = Int(text), (900...43_200).contains(value) else { throw fail("duration_seconds must be 900 to 43200") }
                duration = value
            }
            func value(_ key: String) -> String? { section.values[key].flatMap { $0.isEmpty ? nil : $0 } }
            let identity = RegistryIdentity(profile: value("profile"), roleARN: value("role_arn"), externalID: value("external_id"),
                                            sessionName: value("role_session_name"), durationSeconds: duration, region: value("region"),
                                            origin: "\(file.path) [\(section.header)]")
            guard identity.profile != nil || identity.roleARN != nil else { throw fail("[\(section.header)] needs profile or role_arn") }
            if kind == "account" {
                guard subject.utf8.count == 12, subject.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                    throw fail("[account \(subject)] needs a 12-digit account id")
                }
                accounts[subject] = identity
            } else if subject.contains("*") {
                patterns.append((subject.split(separator: ".", omittingEmptySubsequences: false),
                                 subject.filter { $0 == "*" }.count, subject.count, identity))
            } else {
                exact[subject] = identity
            }
        }
        self.exact = exact
        self.patterns = patterns.enumerated()
            .sorted { ($0.element.stars, -$0.element.length, $0.offset) < ($1.element.stars, -$1.element.length, $1.offset) }
            .map(\.element)
        self.accounts = accounts
        self.cacheSettings = cache
        self.mirrors = mirrors
    }

    /// The identity rule for a registry host and account, if any matches.
    package func identity(host: String, accountID: String?) -> RegistryIdentity? {
        if let rule = exact[host] { return rule }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        for entry in patterns where entry.pattern.count == labels.count {
            if zip(entry.pattern, labels).allSatisfy({ Self.glob($0, matches: $1) }) { return entry.identity }
        }
        return accountID.flatMap { accounts[$0] }
    }

    /// Whether `pattern` (with `*` for any run of characters) matches all of `text`.
    ///
    /// Greedy matching that only ever backtracks to the most recent `*`: at most
    /// `pattern.count × text.count` steps, never exponential whatever the stars.
    static func glob(_ pattern: Substring, matches text: Substring) -> Bool {
        let pattern = Array(pattern.utf8), text = Array(text.utf8)
        let star = UInt8(ascii: "*")
        var p = 0, t = 0
        var lastStar: Int?, resume = 0
        while t < text.count {
            if p < pattern.count && pattern[p] == star {
                lastStar = p
                resume = t
                p += 1
            } else if p < pattern.count && pattern[p] == text[t] {
                p += 1
                t += 1
            } else if let starAt = lastStar {
                // Let the last `*` swallow one more character and retry from there.
                p = starAt + 1
                resume += 1
                t = resume
            } else {
                return false
            }
        }
        while p < pattern.count && pattern[p] == star { p += 1 }
        return p == pattern.count
    }
}
