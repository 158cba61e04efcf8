// Finding text inside text by its UTF-8 bytes, without the standard library's string algorithms.

extension StringProtocol {
    /// The first range where `other` occurs in this text, compared byte for byte in UTF-8; nil
    /// when it does not occur. An empty `other` occurs at the start.
    ///
    /// The standard library's `firstRange(of:)` and `contains(_:)` for strings come from
    /// `_StringProcessing`, which links the regular-expression modules into the binary (2,600
    /// relocations the loader applies at every start, cache hits included). What this library
    /// looks for (markers in AWS messages, URL schemes, XML tags, option words) is matched as
    /// bytes: a match starts where `other`'s first scalar starts, so its bounds are valid
    /// indices, but unlike `contains(_:)` it does not compare characters by canonical equivalence.
    package func firstRange(ofText other: some StringProtocol) -> Range<Index>? {
        let needle = Array(other.utf8)
        let bytes = utf8
        guard let first = needle.first else { return startIndex..<startIndex }
        var start = bytes.startIndex
        while let candidate = bytes[start...].firstIndex(of: first) {
            var position = candidate
            var matched = 0
            while matched < needle.count, position != bytes.endIndex, bytes[position] == needle[matched] {
                bytes.formIndex(after: &position)
                matched += 1
            }
            if matched == needle.count { return candidate..<position }
            if position == bytes.endIndex { return nil }
            start = bytes.index(after: candidate)
        }
        return nil
    }

    /// Whether `other` occurs in this text, compared byte for byte in UTF-8 (see
    /// `firstRange(ofText:)`).
    package func containsText(_ other: some StringProtocol) -> Bool {
        firstRange(ofText: other) != nil
    }
}
