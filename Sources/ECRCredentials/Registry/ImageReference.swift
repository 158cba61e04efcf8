// Image references as docker and the kubelet read them: registry, repository, tag or digest.

/// An image reference (`HOST[:PORT]/REPOSITORY[:TAG][@DIGEST]`), normalised as docker does:
/// no registry means `docker.io`, and a one-word Docker Hub name gets `library/`.
package struct ImageReference: Sendable, Equatable, CustomStringConvertible {
    /// Why a reference was not understood.
    package struct ParseError: Error, Sendable, CustomStringConvertible {
        /// The input, as given (sanitized when printed).
        package var input: String
        /// What is wrong.
        package var reason: String
        /// For example "invalid image reference \"Team/App\": the repository must be lower case".
        package var description: String { "invalid image reference \"\(TerminalText.printable(input, limit: 200))\": \(reason)" }
    }

    /// The registry host and port.
    package var address: RegistryAddress
    /// The repository path (`team/app`, `library/nginx`).
    package var repository: String
    /// The tag, when no digest is given or both are (`latest` when neither is).
    package var tag: String?
    /// The digest (`sha256:...`), when given.
    package var digest: String?

    /// Creates a reference from its parts.
    package init(address: RegistryAddress, repository: String, tag: String? = nil, digest: String? = nil) {
        self.address = address
        self.repository = repository
        self.tag = tag
        self.digest = digest
    }

    /// Parses a reference as `docker pull` and the kubelet take it.
    /// - Throws: `ParseError`.
    package init(parsing input: String) throws {
        func fail(_ reason: String) -> ParseError { ParseError(input: input, reason: reason) }
        var rest = Substring(input)
        guard !rest.isEmpty, rest.utf8.count <= 4096 else { throw fail("empty or too long") }
        if rest.containsText("://") { throw fail("a reference has no scheme") }
        var digest: String?
        if let at = rest.firstIndex(of: "@") {
            digest = String(rest[rest.index(after: at)...])
            rest = rest[..<at]
            guard let value = digest, Self.isDigest(value) else { throw fail("the digest must be ALGORITHM:HEX, such as sha256:<64 hex digits>") }
        }
        var address = RegistryAddress(host: "docker.io")
        if let slash = rest.firstIndex(of: "/") {
            let first = rest[..<slash]
            if first.contains(".") || first.contains(":") || first == "localhost" || first.contains(where: \.isUppercase) {
                do {
                    address = try RegistryAddress(parsing: String(first))
                } catch {
                    throw fail("\(error)")
                }
                rest = rest[rest.index(after: slash)...]
            }
        }
        var tag: String?
        let lastComponent = rest.lastIndex(of: "/").map { rest.index(after: $0) } ?? rest.startIndex
        if let colon = rest[lastComponent...].lastIndex(of: ":") {
            tag = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
            guard let value = tag, Self.isTag(value) else { throw fail("the tag must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'") }
        }
        var repository = String(rest)
        if Mirror.canonicalUpstream(address.host) == "docker.io", address.port == nil, !repository.contains("/") {
            repository = "library/" + repository
        }
        guard Self.isRepository(repository) else {
            throw fail("the repository must be lower-case components of letters and digits joined by '.', '_', '__' or '-', separated by '/'")
        }
        self.init(address: address, repository: repository, tag: tag ?? (digest == nil ? "latest" : nil), digest: digest)
    }

    /// The tag or digest the registry is asked for: the digest when there is one.
    package var reference: String { digest ?? tag ?? "latest" }

    /// `HOST/REPOSITORY[:TAG][@DIGEST]`.
    package var description: String {
        address.description + "/" + repository + (tag.map { ":\($0)" } ?? "") + (digest.map { "@\($0)" } ?? "")
    }

    /// The reference with its registry replaced by `mirror`'s ECR registry and its repository
    /// under the mirror's prefix, when `mirrors` has one for its registry; else itself.
    package func following(_ mirrors: MirrorMap) -> (image: ImageReference, mirror: Mirror?) {
        guard let mirror = mirrors.mirror(for: address) else { return (self, nil) }
        let path = mirror.prefix.isEmpty ? repository : "\(mirror.prefix)/\(repository)"
        return (ImageReference(address: RegistryAddress(host: mirror.registry.host), repository: path, tag: tag, digest: digest), mirror)
    }

    static func isDigest(_ text: String) -> Bool {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].utf8.count >= 32, parts[1].utf8.count <= 128 else { return false }
        return parts[0].utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2b || $0 == 0x2e || $0 == 0x5f || $0 == 0x2d }
            && parts[1].utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x66) || ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x46) }
    }

    static func isTag(_ text: String) -> Bool {
        guard let first = text.utf8.first, (1...128).contains(text.utf8.count), first != 0x2e, first != 0x2d else { return false }
        return text.utf8.allSatisfy { isAlphanumeric($0) || $0 == 0x5f || $0 == 0x2e || $0 == 0x2d }
    }

    static func isRepository(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 256 else { return false }
        return text.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { component in
            guard let first = component.utf8.first, let last = component.utf8.last,
                  isLowerAlphanumeric(first), isLowerAlphanumeric(last) else { return false }
            var previousSeparator = false
            for byte in component.utf8 {
                if isLowerAlphanumeric(byte) {
                    previousSeparator = false
                } else if byte == 0x2e || byte == 0x5f || byte == 0x2d {
                    // Only `__` and runs of `-` may double a separator.
                    if previousSeparator && byte == 0x2e { return false }
                    previousSeparator = true
                } else {
                    return false
                }
            }
            return true
        }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLowerAlphanumeric(byte) || (byte >= 0x41 && byte <= 0x5a)
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39)
    }
}
