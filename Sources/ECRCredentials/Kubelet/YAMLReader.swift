// YAML read as the kubelet reads it (sigs.k8s.io/yaml over yaml.v2): into the JSON value tree.
import CYAML

/// Reads a YAML document into the same `JSONDocument` the JSON reader produces, as the kubelet's
/// decoder does before its strict JSON decoding: plain scalars resolve as YAML 1.1 does (`true`,
/// `yes`, `on`, `12`, `0x1f`, `1.5`, `~` and `null`), quoted ones stay strings, anchors and
/// aliases and `<<` merge keys are expanded, a key given twice is refused (strict decoding), and
/// the line of every key and list item is kept for error messages. Only the first document of a
/// stream is read, as the kubelet does. libyaml is opened with dlopen here, on the doctor's path only.
package struct YAMLReader: Sendable {
    /// YAML the kubelet would refuse, or libyaml missing.
    package struct ParseError: Error, Sendable, CustomStringConvertible {
        /// The 1-based line, when the failure has one.
        package var line: Int?
        /// Why.
        package var reason: String
        /// The field path (`providers[0].name`) of a key given twice.
        package var field: String?
        /// For example "line 4: mapping values are not allowed in this context".
        package var description: String { (line.map { "line \($0): " } ?? "") + (field.map { "\($0): " } ?? "") + reason }
    }

    /// The value tree.
    package var document: JSONDocument
    /// The line of each key and list item, by its field path (`providers[0].name`, `providers[1]`).
    package var lines: [String: Int]

    /// Parses `bytes`.
    /// - Throws: `ParseError`.
    package init(parsing bytes: [UInt8]) throws {
        var message = [CChar](repeating: 0, count: 512)
        if cyaml_load(&message, message.count) != 0 {
            throw ParseError(line: nil, reason: Self.text(message) + " to read YAML (or give the config as JSON)")
        }
        let builder = Builder()
        var line = 0, column = 0
        let status = bytes.withUnsafeBufferPointer { buffer in
            withExtendedLifetime(builder) {
                cyaml_parse(buffer.baseAddress, buffer.count, { event, context in
                    guard let event, let context else { return 1 }
                    return Unmanaged<Builder>.fromOpaque(context).takeUnretainedValue().take(event.pointee)
                }, Unmanaged.passUnretained(builder).toOpaque(), &message, message.count, &line, &column)
            }
        }
        if let failure = builder.failure { throw failure }
        if status == -1 { throw ParseError(line: line, reason: Self.text(message)) }
        document = builder.root ?? .null
        lines = builder.lines
    }

    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Builds the tree from the event stream; owned by one `init` and used on its thread only.
    final class Builder {
        enum Frame {
            case mapping(path: String, anchor: String?, members: [(key: String, value: JSONDocument)], key: String?, merged: Set<String>)
            case sequence(path: String, anchor: String?, items: [JSONDocument])
        }

        var stack: [Frame] = []
        var anchors: [String: JSONDocument] = [:]
        var lines: [String: Int] = [:]
        var root: JSONDocument?
        var failure: ParseError?
        var documents = 0

        /// The deepest nesting read, as the JSON reader's: 256 levels.
        static let maximumDepth = 256
        static let tooDeep = "nested more than \(maximumDepth) levels deep"
        /// Below this depth, paths and lines are not kept: no config field lies that deep, and a
        /// path per level would make the cost grow with the square of the depth.
        static let pathDepth = 8
        /// The most characters of a key kept in a path.
        static let keyInPath = 100

        /// 0 to go on, 1 to stop (with `failure` set, or at the end of the first document).
        func take(_ event: cyaml_event) -> Int32 {
            let line = Int(event.line)
            let anchor = event.anchor.map { String(cString: $0) }
            switch event.kind {
            case CYAML_DOCUMENT_START:
                documents += 1
            case CYAML_DOCUMENT_END:
                return 1
            case CYAML_MAPPING_START:
                guard stack.count < Self.maximumDepth else { return fail(line, Self.tooDeep) }
                guard let path = childPath(line: line) else { return 1 }
                stack.append(.mapping(path: path, anchor: anchor, members: [], key: nil, merged: []))
            case CYAML_SEQUENCE_START:
                guard stack.count < Self.maximumDepth else { return fail(line, Self.tooDeep) }
                guard let path = childPath(line: line) else { return 1 }
                stack.append(.sequence(path: path, anchor: anchor, items: []))
            case CYAML_MAPPING_END:
                guard case .mapping(_, let anchor, let members, _, _)? = stack.popLast() else { return fail(line, "unbalanced mapping") }
                return finish(.object(members), anchor: anchor, line: line)
            case CYAML_SEQUENCE_END:
                guard case .sequence(_, let anchor, let items)? = stack.popLast() else { return fail(line, "unbalanced sequence") }
                return finish(.array(items), anchor: anchor, line: line)
            case CYAML_SCALAR:
                let bytes = UnsafeRawBufferPointer(start: event.value, count: event.value_length)
                let text = String(decoding: bytes, as: UTF8.self)
                let tag = event.tag.map { String(cString: $0) }
                if case .mapping(let path, let mappingAnchor, let members, nil, let merged)? = stack.last {
                    // A key: always a string in the JSON the kubelet decodes.
                    let key = Self.keyText(Self.resolve(text, plain: event.plain != 0, tag: tag))
                    if key != "<<" || event.plain == 0, members.contains(where: { $0.key == key }) && !merged.contains(key) {
                        failure = ParseError(line: line, reason: "given twice; the kubelet decodes strictly and refuses it",
                                          field: Self.path(path, key))
                        return 1
                    }
                    if stack.count <= Self.pathDepth { lines[Self.path(path, key)] = line }
                    stack[stack.count - 1] = .mapping(path: path, anchor: mappingAnchor, members: members, key: key, merged: merged)
                    if let anchor { anchors[anchor] = .string(key) }
                    return 0
                }
                guard childPath(line: line) != nil else { return 1 }
                return finish(Self.resolve(text, plain: event.plain != 0, tag: tag), anchor: anchor, line: line)
            case CYAML_ALIAS:
                guard let name = anchor, let value = anchors[name] else { return fail(line, "alias *\(anchor ?? "") names no anchor before it") }
                if case .mapping(_, _, _, nil, _)? = stack.last { return fail(line, "an alias as a key is not read here") }
                guard childPath(line: line) != nil else { return 1 }
                return finish(value, anchor: nil, line: line)
            default:
                break
            }
            return 0
        }

        /// The field path of the node that starts now, recording a list item's line; nil (with
        /// `failure` set) for a key that is not a scalar.
        func childPath(line: Int) -> String? {
            switch stack.last {
            case nil:
                return ""
            case .mapping(let path, _, _, let key, _)?:
                guard let key else {
                    _ = fail(line, "a key that is not a plain string is not one the kubelet reads")
                    return nil
                }
                guard stack.count <= Self.pathDepth else { return path }
                return Self.path(path, key)
            case .sequence(let path, _, let items)?:
                guard stack.count <= Self.pathDepth else { return path }
                let item = "\(path)[\(items.count)]"
                lines[item] = line
                return item
            }
        }

        /// `parent.key`, the key cut to `keyInPath` characters.
        static func path(_ parent: String, _ key: String) -> String {
            let shown = key.count > keyInPath ? key.prefix(keyInPath) + "…" : key
            return parent.isEmpty ? shown : "\(parent).\(shown)"
        }

        /// Adds a finished node to its parent (or makes it the root).
        func finish(_ value: JSONDocument, anchor: String?, line: Int) -> Int32 {
            if let anchor { anchors[anchor] = value }
            switch stack.last {
            case nil:
                root = value
            case .mapping(let path, let mappingAnchor, var members, let key?, var merged)?:
                if key == "<<" {
                    // yaml.v2's merge: the keys of a mapping (or each of a list of them) not set already.
                    let sources: [JSONDocument]
                    if case .array(let list) = value { sources = list } else { sources = [value] }
                    for source in sources {
                        guard let entries = source.members else { return fail(line, "a << merge needs a mapping or a list of mappings") }
                        for entry in entries where !members.contains(where: { $0.key == entry.key }) {
                            members.append(entry)
                            merged.insert(entry.key)
                        }
                    }
                } else if let position = members.firstIndex(where: { $0.key == key }) {
                    // A key set by a merge before it: the explicit one wins.
                    members[position].value = value
                    merged.remove(key)
                } else {
                    members.append((key, value))
                }
                stack[stack.count - 1] = .mapping(path: path, anchor: mappingAnchor, members: members, key: nil, merged: merged)
            case .sequence(let path, let sequenceAnchor, var items)?:
                items.append(value)
                stack[stack.count - 1] = .sequence(path: path, anchor: sequenceAnchor, items: items)
            case .mapping(_, _, _, nil, _)?:
                return fail(line, "a value without a key")
            }
            return 0
        }

        func fail(_ line: Int, _ reason: String) -> Int32 {
            failure = ParseError(line: line, reason: reason)
            return 1
        }

        /// A key's text in the JSON: a string as is, other scalars as YAML prints them.
        static func keyText(_ value: JSONDocument) -> String {
            switch value {
            case .string(let text), .number(let text): text
            case .bool(let flag): flag ? "true" : "false"
            case .null: "null"
            default: ""
            }
        }

        /// A scalar's value: quoted or `!!str` ones are strings; plain ones resolve as YAML 1.1.
        static func resolve(_ text: String, plain: Bool, tag: String?) -> JSONDocument {
            if tag == "tag:yaml.org,2002:str" || !plain { return .string(text) }
            switch text {
            case "", "~", "null", "Null", "NULL":
                return .null
            case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
                return .bool(true)
            case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
                return .bool(false)
            default:
                break
            }
            if let number = number(text) { return .number(number) }
            return .string(text)
        }

        /// A YAML 1.1 int or float in JSON's spelling, or nil.
        static func number(_ text: String) -> String? {
            var digits = String(text.filter { $0 != "_" })
            var sign = ""
            if digits.hasPrefix("-") || digits.hasPrefix("+") {
                sign = digits.hasPrefix("-") ? "-" : ""
                digits.removeFirst()
            }
            guard !digits.isEmpty else { return nil }
            func integer(_ body: Substring, radix: Int) -> String? {
                // Digits only: Int64(_:radix:) would also take a second sign ("-0x-1").
                guard !body.isEmpty, body.first != "-", body.first != "+", let value = Int64(body, radix: radix) else { return nil }
                return sign + String(value)
            }
            if digits.hasPrefix("0x") { return integer(digits.dropFirst(2), radix: 16) }
            if digits.hasPrefix("0b") { return integer(digits.dropFirst(2), radix: 2) }
            if digits.count > 1, digits.hasPrefix("0"), digits.allSatisfy({ $0 >= "0" && $0 <= "7" }) { return integer(digits.dropFirst(), radix: 8) }
            if digits.allSatisfy({ $0.isASCII && $0.isNumber }) { return sign + digits }
            // A float: digits with at most one '.', an optional exponent; JSON wants a digit before and after a dot.
            let parts = digits.lowercased().split(separator: "e", maxSplits: 1, omittingEmptySubsequences: false)
            let mantissa = parts[0]
            guard mantissa.filter({ $0 == "." }).count <= 1, mantissa.allSatisfy({ ($0.isASCII && $0.isNumber) || $0 == "." }),
                  mantissa.contains(where: \.isNumber) else { return nil }
            var exponent = ""
            if parts.count == 2 {
                var power = parts[1]
                let powerSign = power.first == "-" ? "-" : ""
                if power.first == "-" || power.first == "+" { power = power.dropFirst() }
                guard !power.isEmpty, power.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
                exponent = "e" + powerSign + power
            }
            let whole = mantissa.hasPrefix(".") ? "0" + mantissa : String(mantissa)
            let complete = whole.hasSuffix(".") ? whole + "0" : whole
            return sign + complete + exponent
        }
    }
}
