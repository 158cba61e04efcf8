// The INI dialect of ~/.aws/config and ~/.aws/credentials.

/// One parsed AWS shared config or credentials file.
///
/// Follows the AWS CLI's reading: `#` and `;` start comment lines; `key = value` pairs, keys
/// case-insensitive; an indented line under a key with an empty value is a sub-property
/// (`s3 =` then `  addressing_style = path`); other indented lines continue the value above.
/// Values keep any `#` they contain (secrets and commands may hold one).
package struct AWSConfigFile: Sendable {
    /// A line that is none of the above.
    package struct ParseError: Error, Sendable, CustomStringConvertible {
        /// The file.
        package var path: String
        /// The 1-based line number.
        package var line: Int
        /// What is wrong.
        package var reason: String
        /// For example "/home/u/.aws/config:7: expected `key = value`".
        package var description: String { "\(path):\(line): \(reason)" }
    }

    /// One `[...]` section.
    package struct Section: Sendable, Equatable {
        /// The text between the brackets, trimmed (`profile dev`, `default`, `sso-session corp`).
        package var header: String
        /// The line the header is on.
        package var line: Int
        /// Properties by lower-case key.
        package var values: [String: String] = [:]
        /// Sub-properties by lower-case key, then lower-case sub-key.
        package var subsections: [String: [String: String]] = [:]
    }

    /// The file the sections came from (for messages).
    package var path: String
    /// The sections in file order; a repeated header merges into the first, as the CLI does.
    package var sections: [Section]

    /// Parses the text of a file.
    /// - Throws: `ParseError` naming the file and line.
    package init(path: String, text: String) throws {
        self.path = path
        var sections: [Section] = []
        var indexByHeader: [String: Int] = [:]
        var current: Int?
        var lastKey: String?
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let trimmed = line.trimmingASCIIWhitespace()
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            let indented = line.first == " " || line.first == "\t"

            if trimmed.hasPrefix("[") {
                guard let close = trimmed.firstIndex(of: "]") else {
                    throw ParseError(path: path, line: lineNumber, reason: "section header without ]")
                }
                let after = trimmed[trimmed.index(after: close)...].trimmingASCIIWhitespace()
                guard after.isEmpty || after.hasPrefix("#") || after.hasPrefix(";") else {
                    throw ParseError(path: path, line: lineNumber, reason: "unexpected text after ]")
                }
                let header = trimmed[trimmed.index(after: trimmed.startIndex)..<close]
                    .split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
                guard !header.isEmpty else { throw ParseError(path: path, line: lineNumber, reason: "empty section name") }
                if let existing = indexByHeader[header] {
                    current = existing
                } else {
                    sections.append(Section(header: header, line: lineNumber))
                    current = sections.count - 1
                    indexByHeader[header] = current
                }
                lastKey = nil
                continue
            }
            guard let index = current else {
                throw ParseError(path: path, line: lineNumber, reason: "a setting before any [section]")
            }
            if indented, let key = lastKey {
                // A sub-property of a key with an empty value, or a continuation of the value.
                if sections[index].values[key] == "", let equals = trimmed.firstIndex(of: "=") {
                    let subKey = trimmed[..<equals].trimmingASCIIWhitespace().lowercased()
                    let subValue = trimmed[trimmed.index(after: equals)...].trimmingASCIIWhitespace()
                    sections[index].subsections[key, default: [:]][subKey] = subValue
                } else if sections[index].subsections[key] == nil {
                    let previous = sections[index].values[key] ?? ""
                    sections[index].values[key] = previous.isEmpty ? trimmed : previous + "\n" + trimmed
                } else {
                    throw ParseError(path: path, line: lineNumber, reason: "expected `name = value` in the sub-settings of \(key)")
                }
                continue
            }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw ParseError(path: path, line: lineNumber, reason: "expected `name = value` or a [section]")
            }
            let key = trimmed[..<equals].trimmingASCIIWhitespace().lowercased()
            guard !key.isEmpty else { throw ParseError(path: path, line: lineNumber, reason: "a setting without a name") }
            sections[index].values[key] = trimmed[trimmed.index(after: equals)...].trimmingASCIIWhitespace()
            lastKey = key
        }
        self.sections = sections
    }

    /// Reads and parses a file; nil when it does not exist.
    /// - Throws: `SystemError` when it cannot be read, `ParseError` when it is malformed.
    package static func load(path: String) throws -> AWSConfigFile? {
        guard let bytes = try PrivateFile.read(path) else { return nil }
        return try AWSConfigFile(path: path, text: String(decoding: bytes, as: UTF8.self))
    }

    /// The section with exactly this header.
    package func section(_ header: String) -> Section? {
        sections.first { $0.header == header }
    }
}
