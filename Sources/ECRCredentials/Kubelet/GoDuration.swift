// Durations as Go writes and reads them, the form of the kubelet's cacheDuration fields.

/// A whole number of seconds, written as Go's `time.Duration.String()` writes it ("6h0m0s",
/// "1m30s", "45s", "0s"), and read from what `time.ParseDuration` accepts.
package struct GoDuration: Sendable, Equatable, CustomStringConvertible {
    /// Why a duration did not read.
    package struct ParseError: Error, Sendable, CustomStringConvertible {
        /// The text, as given.
        package var text: String
        /// For example "\"12x\" is not a duration such as 12h, 90m or 1h30m".
        package var description: String { "\"\(text)\" is not a duration such as 12h, 90m or 1h30m" }
    }

    /// The seconds, never negative.
    package var seconds: Int

    /// The longest duration kept: 100 years, far below where Go's int64 nanoseconds overflow.
    package static let maximumSeconds = 100 * 366 * 86_400

    /// Creates a duration of `seconds`, clamped to 0...`maximumSeconds`.
    package init(seconds: Int) {
        self.seconds = min(max(seconds, 0), Self.maximumSeconds)
    }

    /// The whole seconds of `seconds` (rounded down), 0 for negative or non-finite values.
    package init(rounding seconds: Double) {
        guard seconds.isFinite, seconds > 0 else {
            self.init(seconds: 0)
            return
        }
        self.init(seconds: seconds >= Double(Self.maximumSeconds) ? Self.maximumSeconds : Int(seconds))
    }

    /// Reads `1h30m`, `90m`, `45s`, `1.5h`: decimal numbers with the units h, m, s; no sign.
    /// - Throws: `ParseError`, also for a duration that is not a whole number of seconds.
    package init(parsing text: String) throws {
        let units: [Character: Double] = ["h": 3600, "m": 60, "s": 1]
        var total = 0.0
        var rest = Substring(text)
        guard !rest.isEmpty else { throw ParseError(text: text) }
        if rest == "0" {
            self.init(seconds: 0)
            return
        }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number.count <= 20, let value = Double(number) else { throw ParseError(text: text) }
            rest = rest.dropFirst(number.count)
            guard let unit = rest.first, let scale = units[unit] else { throw ParseError(text: text) }
            rest = rest.dropFirst()
            total += value * scale
        }
        guard total.isFinite, total <= Double(Self.maximumSeconds), total == total.rounded(.down) else {
            throw ParseError(text: text)
        }
        self.init(seconds: Int(total))
    }

    /// Go's form: "12h0m0s", "1m30s", "45s", "0s".
    package var description: String {
        let hours = seconds / 3600
        let minutes = seconds % 3600 / 60
        let rest = seconds % 60
        if hours > 0 { return "\(hours)h\(minutes)m\(rest)s" }
        if minutes > 0 { return "\(minutes)m\(rest)s" }
        return "\(rest)s"
    }
}
