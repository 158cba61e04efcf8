// Mirrors: upstream registries (docker.io, quay.io, ...) served from an ECR registry under a repository prefix.

/// One upstream registry served by an ECR registry, usually through a pull-through cache rule:
/// `docker.io/library/nginx` is `R/docker-hub/library/nginx`.
package struct Mirror: Sendable, Equatable, CustomStringConvertible {
    /// The registry host images name, canonical (`docker.io` for Docker Hub), with `:port` when it has one.
    package var upstream: String
    /// The ECR registry that serves it.
    package var registry: ECRRegistry
    /// The repository prefix in that registry (`docker-hub`); empty for none (ECR's `ROOT`).
    package var prefix: String
    /// Where the mapping was given, for messages ("--mirror", "FILE [mirror docker.io]").
    package var origin: String

    /// Creates a mirror; `init(parsing:origin:)` checks what a user typed.
    package init(upstream: String, registry: ECRRegistry, prefix: String, origin: String) {
        self.upstream = upstream
        self.registry = registry
        self.prefix = prefix
        self.origin = origin
    }

    /// A bad mapping, refused before anything runs.
    package struct InvalidMapping: Error, Sendable, CustomStringConvertible {
        /// The mapping, as given.
        package var mapping: String
        /// Where it was given.
        package var origin: String
        /// What is wrong.
        package var reason: String
        /// For example "--mirror docker.io=example.com/hub: example.com is not an Amazon ECR private registry ...".
        package var description: String {
            "\(origin) \(TerminalText.printable(mapping, limit: 300)): \(reason)"
        }
    }

    /// Reads `UPSTREAM=ECR_HOST/PREFIX` (the `--mirror` form).
    /// - Throws: `InvalidMapping`.
    package init(parsing mapping: String, origin: String = "--mirror") throws {
        guard let equals = mapping.firstIndex(of: "=") else {
            throw InvalidMapping(mapping: mapping, origin: origin,
                                 reason: "expected UPSTREAM=ECR_HOST/PREFIX, such as docker.io=123456789012.dkr.ecr.us-east-1.amazonaws.com/docker-hub")
        }
        try self.init(upstream: String(mapping[..<equals]), target: String(mapping[mapping.index(after: equals)...]),
                      origin: origin, mapping: mapping)
    }

    /// Reads an upstream host and an `ECR_HOST/PREFIX` target (the config file's form).
    /// - Throws: `InvalidMapping`.
    package init(upstream: String, target: String, origin: String, mapping: String? = nil) throws {
        let shown = mapping ?? "\(upstream)=\(target)"
        func fail(_ reason: String) -> InvalidMapping { InvalidMapping(mapping: shown, origin: origin, reason: reason) }
        let upstreamHost = try Self.upstreamHost(upstream, fail)
        var target = Substring(target)
        if target.hasPrefix("https://") { target = target.dropFirst("https://".count) }
        let slash = target.firstIndex(of: "/") ?? target.endIndex
        let host = target[..<slash].lowercased()
        var prefix = slash < target.endIndex ? String(target[target.index(after: slash)...]) : ""
        if prefix.hasSuffix("/") { prefix.removeLast() }
        guard let registry = ECRRegistry(host: host), registry.accountID != nil else {
            throw fail("\(TerminalText.printable(host, limit: 100)) is not an Amazon ECR private registry "
                       + "(ACCOUNT.dkr.ecr.REGION.amazonaws.com); only those have pull-through caches")
        }
        if prefix == "ROOT" { prefix = "" }
        if let problem = Self.prefixProblem(prefix) { throw fail(problem) }
        if upstreamHost == registry.host { throw fail("a registry cannot mirror itself") }
        self.init(upstream: upstreamHost, registry: registry, prefix: prefix, origin: origin)
    }

    /// `UPSTREAM=ECR_HOST/PREFIX`, the `--mirror` argument that gives this mirror.
    package var description: String { "\(upstream)=\(target)" }

    /// `ECR_HOST/PREFIX`, or the host alone without a prefix.
    package var target: String { prefix.isEmpty ? registry.host : "\(registry.host)/\(prefix)" }

    /// Docker Hub's host names: images say `docker.io`; clients talk to the other two.
    package static let dockerHubHosts = ["docker.io", "index.docker.io", "registry-1.docker.io"]

    /// The name images use for a registry host: Docker Hub's hosts are all `docker.io`.
    package static func canonicalUpstream(_ host: String) -> String {
        dockerHubHosts.contains(host) ? "docker.io" : host
    }

    /// The host names an image of this mirror's upstream can carry (`docker.io` has three).
    package var upstreamHosts: [String] { upstream == "docker.io" ? Self.dockerHubHosts : [upstream] }

    private static func upstreamHost(_ text: String, _ fail: (String) -> InvalidMapping) throws -> String {
        let address: RegistryAddress
        do {
            address = try RegistryAddress(parsing: text)
        } catch {
            throw fail("the upstream is not a registry host (\(error))")
        }
        guard !text.contains("/"), !text.contains("@"), text == text.trimmingASCIIWhitespace(),
              !address.host.contains(":"), !address.host.hasPrefix("."), !address.host.hasSuffix("."),
              !address.host.containsText(".."), !address.host.containsText("_")
        else {
            // `_` also keeps out containerd's `_default`, whose hosts.toml would send every
            // registry without its own file to the mirror.
            throw fail("the upstream must be a registry host such as docker.io, quay.io or registry.k8s.io, without scheme or path")
        }
        let host = RegistryAddress(host: canonicalUpstream(address.host), port: address.port).description
        return host
    }

    /// Why `prefix` is not an ECR repository prefix (lower-case components of letters and
    /// digits joined by `.`, `_` or `-`, separated by `/`, at most 30 characters); nil when it is.
    static func prefixProblem(_ prefix: String) -> String? {
        if prefix.isEmpty { return nil }
        let shown = TerminalText.printable(prefix, limit: 100)
        if prefix.containsText("..") { return "the prefix \"\(shown)\" contains \"..\"" }
        guard prefix.utf8.count <= 30 else { return "the prefix \"\(shown)\" is longer than ECR's 30 characters" }
        for component in prefix.split(separator: "/", omittingEmptySubsequences: false) {
            let bytes = Array(component.utf8)
            let isAlphanumeric: (UInt8) -> Bool = { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) }
            let isSeparator: (UInt8) -> Bool = { $0 == 0x2e || $0 == 0x5f || $0 == 0x2d }
            guard let first = bytes.first, let last = bytes.last, isAlphanumeric(first), isAlphanumeric(last),
                  bytes.allSatisfy({ isAlphanumeric($0) || isSeparator($0) })
            else {
                return "the prefix \"\(shown)\" is not an ECR repository prefix (lower-case letters and digits, "
                    + "joined by . _ - and separated by /, such as docker-hub)"
            }
        }
        return nil
    }
}

/// The mirrors a node serves, each upstream at most once: from `--mirror` arguments and the
/// tool config file's `[mirror UPSTREAM]` sections.
package struct MirrorMap: Sendable, Equatable {
    /// The mirrors, in the order given.
    package private(set) var mirrors: [Mirror]

    /// No mirrors.
    package static let empty = MirrorMap()

    /// Creates a map with no mirrors.
    package init() { mirrors = [] }

    /// - Throws: `Mirror.InvalidMapping` when two mirrors have the same upstream.
    package init(_ mirrors: [Mirror]) throws {
        self.init()
        for mirror in mirrors { try add(mirror) }
    }

    /// Reads `--mirror` arguments (`UPSTREAM=ECR_HOST/PREFIX`).
    /// - Throws: `Mirror.InvalidMapping` for a bad mapping or a duplicate upstream.
    package init(arguments: [String]) throws {
        try self.init(arguments.map { try Mirror(parsing: $0) })
    }

    /// Adds a mirror.
    /// - Throws: `Mirror.InvalidMapping` when its upstream already has one.
    package mutating func add(_ mirror: Mirror) throws {
        if let existing = mirrors.first(where: { $0.upstream == mirror.upstream }) {
            throw Mirror.InvalidMapping(mapping: mirror.description, origin: mirror.origin,
                                        reason: "\(mirror.upstream) already has a mirror (\(existing.origin) \(existing.description)); give each upstream once")
        }
        mirrors.append(mirror)
    }

    /// Adds every mirror of `other`.
    /// - Throws: `Mirror.InvalidMapping` for an upstream both have.
    package mutating func merge(_ other: MirrorMap) throws {
        for mirror in other.mirrors { try add(mirror) }
    }

    /// The mirror of an image's registry host (any of Docker Hub's names for Docker Hub), if any.
    package func mirror(for address: RegistryAddress) -> Mirror? {
        let upstream = RegistryAddress(host: Mirror.canonicalUpstream(address.host), port: address.port).description
        return mirrors.first { $0.upstream == upstream }
    }

    /// Whether there are no mirrors.
    package var isEmpty: Bool { mirrors.isEmpty }

    /// The `--mirror` arguments that give this map, one value each.
    package var arguments: [String] { mirrors.map(\.description) }
}
