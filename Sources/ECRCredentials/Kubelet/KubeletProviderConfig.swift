// The kubelet's CredentialProviderConfig as the kubelet reads it: strict fields, its validation, matchImages.

#if canImport(Glibc)
import Glibc
#endif

/// A `CredentialProviderConfig` read with the kubelet's rules: unknown fields refused, the
/// `kubelet.config.k8s.io` versions it knows, every provider validated. A file is JSON or YAML
/// (YAMLReader, through libyaml). A directory holds one config per `.json`, `.yaml` or `.yml`
/// file, read in lexicographic order with their providers joined and a name at most once, as the
/// kubelet merges them; other files and subdirectories are ignored.
package struct KubeletProviderConfig: Sendable {
    /// One provider entry.
    package struct Provider: Sendable, Equatable {
        /// The executable's file name in the bin directory.
        package var name: String
        /// The plugin API version the kubelet speaks to it.
        package var apiVersion: String
        /// The image patterns it answers.
        package var matchImages: [String]
        /// The cache duration when a response names none.
        package var defaultCacheDuration: String
        /// Its arguments.
        package var args: [String]
        /// Environment variables added to the kubelet's.
        package var env: [String: String]
        /// Whether it asks for service-account tokens (Kubernetes 1.33+, beta and on by default from 1.34).
        package var tokenAttributes: Bool
        /// The file it came from.
        package var origin: String
    }

    /// A config the kubelet would refuse, and where.
    package struct Invalid: Error, Sendable, CustomStringConvertible {
        /// The file.
        package var file: String
        /// The field (`providers[0].name`), empty for the whole file.
        package var field: String
        /// Why.
        package var reason: String
        /// The line of a YAML file the field is on, when known.
        package var line: Int?
        /// For example "/etc/kubernetes/ecr.json: providers[0].apiVersion: ..." ("... (line 7)" in YAML).
        package var description: String {
            TerminalText.printable("\(file): " + (field.isEmpty ? "" : "\(field): ") + reason + (line.map { " (line \($0))" } ?? ""), limit: 600)
        }

        /// Creates the error.
        package init(file: String, field: String, reason: String, line: Int? = nil) {
            self.file = file
            self.field = field
            self.reason = reason
            self.line = line
        }
    }

    /// The config API versions the kubelet reads.
    package static let configVersions = ["kubelet.config.k8s.io/v1", "kubelet.config.k8s.io/v1beta1", "kubelet.config.k8s.io/v1alpha1"]

    /// The providers, in file order.
    package var providers: [Provider]
    /// The files read.
    package var files: [String]

    /// Reads a file, or every `.json`, `.yaml` and `.yml` file of a directory.
    /// - Throws: `Invalid`.
    package init(path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw Invalid(file: path, field: "", reason: "cannot be read: \(String(cString: strerror(errno)))")
        }
        var files = [path]
        if (info.st_mode & S_IFMT) == S_IFDIR {
            let names: [String]
            do {
                names = try PrivateFile.names(in: path)
            } catch {
                throw Invalid(file: path, field: "", reason: "cannot be listed: \(error)")
            }
            files = names.filter { $0.hasSuffix(".json") || $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
                .map { "\(path)/\($0)" }
                .filter { var entry = stat(); return stat($0, &entry) != 0 || (entry.st_mode & S_IFMT) != S_IFDIR }
                .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            guard !files.isEmpty else { throw Invalid(file: path, field: "", reason: "holds no .json, .yaml or .yml file") }
        }
        var providers: [Provider] = []
        for file in files {
            let bytes: [UInt8]?
            do {
                bytes = try PrivateFile.read(file)
            } catch {
                throw Invalid(file: file, field: "", reason: "cannot be read: \(error)")
            }
            guard let bytes else { throw Invalid(file: file, field: "", reason: "does not exist") }
            for provider in try Self.providers(in: bytes, file: file) {
                if let earlier = providers.first(where: { $0.name == provider.name }) {
                    throw Invalid(file: file, field: "providers", reason: "the provider \(provider.name) is also in \(earlier.origin); the kubelet refuses duplicates",
                                  line: nil)
                }
                providers.append(provider)
            }
        }
        guard !providers.isEmpty else {
            throw Invalid(file: path, field: "providers", reason: "needs at least one provider; the kubelet refuses a config without one")
        }
        self.providers = providers
        self.files = files
    }

    /// The providers of one file's text.
    static func providers(in bytes: [UInt8], file: String) throws -> [Provider] {
        let document: JSONDocument
        var lines: [String: Int] = [:]
        if bytes.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) == UInt8(ascii: "{") {
            do {
                document = try JSONDocument(parsing: bytes)
            } catch {
                throw Invalid(file: file, field: "", reason: "not JSON the kubelet can read: \(error)")
            }
        } else {
            do {
                let yaml = try YAMLReader(parsing: bytes)
                document = yaml.document
                lines = yaml.lines
            } catch let failure as YAMLReader.ParseError {
                if let field = failure.field { throw Invalid(file: file, field: field, reason: failure.reason, line: failure.line) }
                throw Invalid(file: file, field: "", reason: "not YAML the kubelet can read: \(failure.reason)", line: failure.line)
            }
        }
        func fail(_ field: String, _ reason: String) -> Invalid {
            // The line of the field, or of the nearest enclosing one a YAML file names.
            var path = Substring(field)
            while !path.isEmpty, lines[String(path)] == nil {
                path = path[..<(path.lastIndex { $0 == "." || $0 == "[" } ?? path.startIndex)]
            }
            return Invalid(file: file, field: field, reason: reason, line: lines[String(path)])
        }
        let top = try fields(of: document, at: "", allowed: ["kind", "apiVersion", "providers"], file: file, lines: lines)
        guard let version = top["apiVersion"]?.stringValue, configVersions.contains(version) else {
            throw fail("apiVersion", "must be one of \(configVersions.joined(separator: ", ")), not \(top["apiVersion"].map(\.text) ?? "missing")")
        }
        guard top["kind"]?.stringValue == "CredentialProviderConfig" else { throw fail("kind", "must be CredentialProviderConfig") }
        guard case .array(let entries)? = top["providers"] else { throw fail("providers", "must be a list") }
        var providers: [Provider] = []
        for (index, entry) in entries.enumerated() {
            let at = "providers[\(index)]"
            let allowed = ["name", "matchImages", "defaultCacheDuration", "apiVersion", "args", "env"]
                + (version.hasSuffix("/v1") ? ["tokenAttributes"] : [])
            let field = try fields(of: entry, at: at, allowed: allowed, file: file, lines: lines)
            // A string field's text; nil when absent or null. YAML reads unquoted `0x1F`, `yes` or `ON`
            // as a number or a boolean, which the kubelet refuses where a string is needed.
            func text(_ value: JSONDocument?, _ path: String) throws -> String? {
                switch value {
                case nil, .null?: return nil
                case .string(let text)?: return text
                case let other?:
                    let shown = TerminalText.printable(other.text.trimmingASCIIWhitespace(), limit: 60)
                    throw fail(path, "must be a string, not \(shown) (quote it: YAML reads it as a \(Self.kind(of: other)))")
                }
            }
            guard let name = try text(field["name"], "\(at).name"), !name.isEmpty else { throw fail("\(at).name", "is required") }
            guard !name.contains("/"), name != ".", name != ".." else { throw fail("\(at).name", "must be a file name, without /") }
            guard !name.contains(" ") else { throw fail("\(at).name", "must not contain spaces") }
            guard let apiVersion = try text(field["apiVersion"], "\(at).apiVersion") else { throw fail("\(at).apiVersion", "is required") }
            guard CredentialProviderRequest.APIVersion(rawValue: apiVersion) != nil else {
                throw fail("\(at).apiVersion", "\(apiVersion) is not a plugin API this binary speaks ("
                           + CredentialProviderRequest.APIVersion.allCases.map(\.rawValue).joined(separator: ", ") + ")")
            }
            guard case .array(let patterns)? = field["matchImages"], !patterns.isEmpty else { throw fail("\(at).matchImages", "needs at least one pattern") }
            var matchImages: [String] = []
            for (number, pattern) in patterns.enumerated() {
                guard let text = pattern.stringValue else { throw fail("\(at).matchImages[\(number)]", "must be a string") }
                if let problem = ImagePattern.problem(text) { throw fail("\(at).matchImages[\(number)]", "\"\(text)\": \(problem)") }
                matchImages.append(text)
            }
            guard let duration = try text(field["defaultCacheDuration"], "\(at).defaultCacheDuration") else {
                throw fail("\(at).defaultCacheDuration", "is required")
            }
            do {
                _ = try GoDuration(parsing: duration)
            } catch {
                throw fail("\(at).defaultCacheDuration", "\(error)")
            }
            var args: [String] = []
            if let list = field["args"] {
                guard case .array(let words) = list, words.allSatisfy({ $0.stringValue != nil }) else { throw fail("\(at).args", "must be a list of strings") }
                args = words.compactMap(\.stringValue)
            }
            var env: [String: String] = [:]
            if let list = field["env"] {
                guard case .array(let items) = list else { throw fail("\(at).env", "must be a list of {name, value}") }
                for (number, item) in items.enumerated() {
                    let pair = try fields(of: item, at: "\(at).env[\(number)]", allowed: ["name", "value"], file: file, lines: lines)
                    let key = try text(pair["name"], "\(at).env[\(number)].name")
                    let value = try text(pair["value"], "\(at).env[\(number)].value")
                    guard let key, !key.isEmpty, let value else {
                        throw fail("\(at).env[\(number)]", "needs a name and a value")
                    }
                    env[key] = value
                }
            }
            if let attributes = field["tokenAttributes"] {
                try checkTokenAttributes(attributes, at: "\(at).tokenAttributes", apiVersion: apiVersion, file: file, lines: lines, fail: fail)
            }
            providers.append(Provider(name: name, apiVersion: apiVersion, matchImages: matchImages, defaultCacheDuration: duration,
                                      args: args, env: env, tokenAttributes: field["tokenAttributes"] != nil, origin: file))
        }
        return providers
    }

    /// What a JSON value is, in a reason: "number", "boolean", "list", "mapping".
    static func kind(of value: JSONDocument) -> String {
        switch value {
        case .number: "number"
        case .bool: "boolean"
        case .array: "list"
        case .object: "mapping"
        case .null: "null"
        case .string: "string"
        }
    }

    /// The kubelet's rules for `tokenAttributes` (service-account tokens for the provider).
    static func checkTokenAttributes(_ attributes: JSONDocument, at path: String, apiVersion: String, file: String, lines: [String: Int],
                                     fail: (String, String) -> Invalid) throws {
        let allowed = ["serviceAccountTokenAudience", "cacheType", "requireServiceAccount",
                       "requiredServiceAccountAnnotationKeys", "optionalServiceAccountAnnotationKeys"]
        let field = try fields(of: attributes, at: path, allowed: allowed, file: file, lines: lines)
        guard apiVersion == CredentialProviderRequest.APIVersion.v1.rawValue else {
            throw fail(path, "is only supported for the plugin API \(CredentialProviderRequest.APIVersion.v1.rawValue), not \(apiVersion)")
        }
        guard let audience = field["serviceAccountTokenAudience"]?.stringValue, !audience.isEmpty else {
            throw fail("\(path).serviceAccountTokenAudience", "is required")
        }
        guard case .bool(let required)? = field["requireServiceAccount"] else { throw fail("\(path).requireServiceAccount", "is required (true or false)") }
        guard let cacheType = field["cacheType"]?.stringValue, ["ServiceAccount", "Token"].contains(cacheType) else {
            throw fail("\(path).cacheType", "must be ServiceAccount or Token")
        }
        var seen: Set<String> = []
        for list in ["requiredServiceAccountAnnotationKeys", "optionalServiceAccountAnnotationKeys"] {
            guard let value = field[list] else { continue }
            guard case .array(let keys) = value, keys.allSatisfy({ $0.stringValue != nil }) else { throw fail("\(path).\(list)", "must be a list of strings") }
            for key in keys.compactMap(\.stringValue) {
                guard seen.insert(key).inserted else { throw fail("\(path).\(list)", "\(key) is given twice, or both required and optional") }
            }
        }
        if !required, field["requiredServiceAccountAnnotationKeys"].map({ if case .array(let keys) = $0 { !keys.isEmpty } else { false } }) == true {
            throw fail("\(path).requiredServiceAccountAnnotationKeys", "needs requireServiceAccount: true")
        }
    }

    /// The members of an object, refusing a key the kubelet does not know or one given twice.
    static func fields(of document: JSONDocument, at path: String, allowed: [String], file: String,
                       lines: [String: Int] = [:]) throws -> [String: JSONDocument] {
        guard let members = document.members else { throw Invalid(file: file, field: path, reason: "must be an object", line: lines[path]) }
        var fields: [String: JSONDocument] = [:]
        for (key, value) in members {
            let field = path.isEmpty ? key : "\(path).\(key)"
            guard allowed.contains(key) else {
                throw Invalid(file: file, field: field, reason: "unknown field; the kubelet decodes strictly and refuses the whole config", line: lines[field])
            }
            guard fields[key] == nil else { throw Invalid(file: file, field: field, reason: "given twice", line: lines[field]) }
            fields[key] = value
        }
        return fields
    }
}

/// A `matchImages` pattern and the kubelet's matching: hosts split on `.` with equal label counts,
/// each label glob-matched (`*` never spans a dot), ports equal, the path a plain prefix.
package enum ImagePattern {
    /// Why the kubelet would refuse `pattern`; nil when it is valid.
    package static func problem(_ pattern: String) -> String? {
        guard let parts = split(pattern) else { return "not a host[:port][/path] pattern" }
        if parts.host.isEmpty { return "no host" }
        if parts.host.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) { return "an empty DNS label" }
        let allowed = parts.host.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || [0x2d, 0x2e, 0x2a, 0x5f].contains($0) }
        return allowed ? nil : "the host may hold only lower-case letters, digits, '-', '.' and '*'"
    }

    /// Whether `image` (without scheme; a tag or digest is ignored) matches `pattern`.
    package static func matches(_ pattern: String, image: String) -> Bool {
        guard let want = split(pattern), let have = split(image) else { return false }
        let wanted = want.host.split(separator: ".", omittingEmptySubsequences: false)
        let labels = have.host.split(separator: ".", omittingEmptySubsequences: false)
        guard wanted.count == labels.count, want.port == have.port else { return false }
        guard zip(wanted, labels).allSatisfy({ glob(Array($0.utf8), Array($1.utf8)) }) else { return false }
        return have.path.hasPrefix(want.path)
    }

    /// How many labels of `pattern` match `image`'s, for "the closest pattern".
    package static func closeness(_ pattern: String, image: String) -> Int {
        guard let want = split(pattern), let have = split(image) else { return 0 }
        let wanted = want.host.split(separator: "."), labels = have.host.split(separator: ".")
        return zip(wanted.reversed(), labels.reversed()).prefix { glob(Array($0.utf8), Array($1.utf8)) }.count
            - abs(wanted.count - labels.count)
    }

    static func split(_ text: String) -> (host: String, port: String?, path: String)? {
        var rest = Substring(text)
        if rest.hasPrefix("https://") { rest = rest.dropFirst(8) } else if rest.containsText("://") { return nil }
        let authority = rest.prefix { $0 != "/" }
        var path = String(rest.dropFirst(authority.count))
        // A tag or digest is not part of the path the kubelet compares.
        if let at = path.firstIndex(of: "@") { path = String(path[..<at]) }
        if let slash = path.lastIndex(of: "/"), let colon = path[slash...].firstIndex(of: ":") { path = String(path[..<colon]) }
        var host = authority
        var port: String?
        if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            port = String(authority[authority.index(after: colon)...])
            guard let value = port, !value.isEmpty, value.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        }
        return (host.lowercased(), port, path)
    }

    /// `path.Match` for one label: `*` any run of bytes, `?` one byte.
    static func glob(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        var p = 0, t = 0, star = -1, mark = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == UInt8(ascii: "?") || pattern[p] == text[t] {
                p += 1; t += 1
            } else if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                star = p; mark = t; p += 1
            } else if star >= 0 {
                p = star + 1; mark += 1; t = mark
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}
