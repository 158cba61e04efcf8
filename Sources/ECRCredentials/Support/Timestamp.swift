// A point in time as seconds since 1970, and the formats AWS uses: SigV4's basic ISO 8601 and
// the extended form in replies.

#if canImport(Glibc)
import Glibc
#endif

/// A point in time: seconds since 1970-01-01T00:00:00Z, as a plain value.
///
/// Named so that a program importing both this library and Foundation can still say `Date`.
/// Its members follow `Date`'s names; `Timestamp.iso8601(_:)` and the others format and parse
/// the timestamps AWS sends and expects.
public struct Timestamp: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Seconds since 1970-01-01T00:00:00Z (negative before).
    public var timeIntervalSince1970: Double

    /// The time `seconds` after 1970-01-01T00:00:00Z.
    public init(timeIntervalSince1970 seconds: Double) {
        timeIntervalSince1970 = seconds
    }

    /// This time moved by `seconds` (earlier when negative).
    package func addingTimeInterval(_ seconds: Double) -> Timestamp {
        Timestamp(timeIntervalSince1970: timeIntervalSince1970 + seconds)
    }

    /// The seconds from `other` to this time: positive when this time is later.
    package func timeIntervalSince(_ other: Timestamp) -> Double {
        timeIntervalSince1970 - other.timeIntervalSince1970
    }

    /// `time` moved by `seconds`.
    package static func + (time: Timestamp, seconds: Double) -> Timestamp {
        time.addingTimeInterval(seconds)
    }

    /// `time` moved back by `seconds`.
    package static func - (time: Timestamp, seconds: Double) -> Timestamp {
        time.addingTimeInterval(-seconds)
    }

    /// Whether `lhs` is earlier than `rhs`.
    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.timeIntervalSince1970 < rhs.timeIntervalSince1970
    }

    /// The time in UTC, for example `2015-08-30T12:36:00Z`.
    public var description: String { Self.iso8601(self) }

    /// `20150830T123600Z`, the `X-Amz-Date` form.
    package static func amzDate(_ date: Timestamp) -> String {
        let parts = utc(date)
        return pad(parts.year, 4) + pad(parts.month, 2) + pad(parts.day, 2) + "T"
            + pad(parts.hour, 2) + pad(parts.minute, 2) + pad(parts.second, 2) + "Z"
    }

    /// `2015-08-30T12:36:00Z`.
    package static func iso8601(_ date: Timestamp) -> String {
        let parts = utc(date)
        return "\(pad(parts.year, 4))-\(pad(parts.month, 2))-\(pad(parts.day, 2))T"
            + "\(pad(parts.hour, 2)):\(pad(parts.minute, 2)):\(pad(parts.second, 2))Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM)`; a space may stand for `T`,
    /// and `UTC` for `Z`. Returns nil for anything else.
    package static func parseISO8601(_ text: String) -> Timestamp? {
        let bytes = Array(text.trimmingASCIIWhitespace().utf8)
        var index = 0
        func number(_ width: Int) -> Int? {
            guard index + width <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<(index + width)] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            index += width
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
              expect("Tt "), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
              let second = number(2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var fraction = 0.0
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, bytes[index] >= 0x30 && bytes[index] <= 0x39 {
                fraction += Double(bytes[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        var offset = 0
        let zone = String(decoding: bytes[index...], as: UTF8.self)
        switch zone {
        case "Z", "z", "UTC", "+00:00", "": break
        default:
            guard expect("+-") else { return nil }
            let sign = bytes[index - 1] == UInt8(ascii: "-") ? -1 : 1
            guard let zoneHour = number(2) else { return nil }
            _ = expect(":")
            guard let zoneMinute = number(2), index == bytes.count else { return nil }
            offset = sign * (zoneHour * 3600 + zoneMinute * 60)
        }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let seconds = timegm(&parts)
        return Timestamp(timeIntervalSince1970: Double(seconds - offset) + fraction)
    }

    private static func utc(_ date: Timestamp) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        // time_t(_:) traps on values it cannot hold: clamp to years 0001-9999 first (NaN to 1970).
        let interval = date.timeIntervalSince1970
        let bounded = interval.isNaN ? 0 : min(max(interval.rounded(.down), -62_135_596_800), EpochSeconds.range.upperBound)
        var seconds = time_t(bounded)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return (Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// Times from outside (servers, files, child processes, the keyring) as seconds since 1970.
///
/// Swift's `Int(_: Double)` and `time_t(_: Double)` trap on infinities, NaN and values beyond
/// their range, so every such number is checked here before it is converted or kept.
package enum EpochSeconds {
    /// The times this tool accepts: 1970-01-01 to 9999-12-31T23:59:59Z.
    package static let range: ClosedRange<Double> = 0...253_402_300_799

    /// The longest duration accepted from outside (an `expiresIn`, a lifetime): 100 years.
    package static let maximumDuration: Double = 100 * 366 * 86_400

    /// `value` when it is a time in `range`; nil for NaN, infinities and anything outside.
    package static func validated(_ value: Double) -> Double? {
        range.contains(value) ? value : nil
    }

    /// Whole seconds as decimal text, never trapping: `value` is clamped to `range` first.
    package static func text(_ value: Double) -> String {
        let bounded = value.isNaN ? 0 : min(max(value, range.lowerBound), range.upperBound)
        return String(Int64(bounded.rounded(.down)))
    }

    /// Parses decimal text written by `text(_:)` (or any number); nil unless it is in `range`.
    package static func parse(_ text: String) -> Double? {
        Double(text).flatMap(validated)
    }
}

/// Lower-case hexadecimal encoding.
package enum Hex {
    /// The bytes as lower-case hex digits.
    package static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var output: [UInt8] = []
        for byte in bytes {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: output, as: UTF8.self)
    }
}
