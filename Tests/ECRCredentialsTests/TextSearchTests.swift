// The library's byte-wise text search against the standard library's string algorithms.
@testable import ECRCredentials
import Testing

@Suite struct TextSearchTests {
    /// Every needle of up to three letters from a small alphabet, in every haystack of up to six:
    /// the same answer and the same range as `firstRange(of:)`, for strings and substrings.
    @Test func agreesWithTheStandardLibraryOnASCII() {
        let letters: [Character] = ["a", "b", ":", "/"]
        func words(upTo length: Int) -> [String] {
            var all = [""]
            var current = [""]
            for _ in 0..<length {
                current = current.flatMap { word in letters.map { word + String($0) } }
                all += current
            }
            return all
        }
        let haystacks = words(upTo: 6)
        let needles = words(upTo: 3)
        for haystack in haystacks {
            for needle in needles {
                #expect(haystack.firstRange(ofText: needle) == haystack.firstRange(of: needle), "\(haystack) \(needle)")
                // The empty needle is left to firstRange: Foundation, imported by other files of
                // these tests, adds a `contains(_:)` that answers false for it.
                if !needle.isEmpty { #expect(haystack.containsText(needle) == haystack.contains(needle), "\(haystack) \(needle)") }
                let tail = haystack.dropFirst()
                #expect(tail.firstRange(ofText: needle) == tail.firstRange(of: needle), "\(tail) \(needle)")
            }
        }
    }

    /// Matches start and end on scalar boundaries in text with multi-byte characters, so the
    /// ranges slice the string.
    @Test func rangesInNonASCIITextSliceWhole() throws {
        let text = "prüfen: «arn:aws:ecr» ✓ arn:"
        let range = try #require(text.firstRange(ofText: "arn:"))
        #expect(text[range] == "arn:")
        #expect(text[range.upperBound...].hasPrefix("aws:ecr»"))
        #expect(text.firstRange(ofText: "✓")!.lowerBound == text.firstIndex(of: "✓"))
        #expect(!"ab".containsText("abc"))
        #expect("".containsText(""))
    }
}
