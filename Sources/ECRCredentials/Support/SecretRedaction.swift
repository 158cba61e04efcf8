// Secrets taken out of text shown to people: URL passwords, known secret values, JSON Web Tokens.

/// Replaces what would give a reader a credential by `<redacted>`, the same way everywhere
/// text is printed or logged.
package enum SecretRedaction {
    /// What stands in place of a secret.
    package static let marker = "<redacted>"

    /// `text` with the secret of a URL's user info replaced: `scheme://user:password@host/...`
    /// becomes `scheme://user:<redacted>@host/...`, `scheme://token@host` becomes
    /// `scheme://<redacted>@host`, and a URL without a scheme (`user:password@proxy:3128`, as
    /// proxy settings are often written) is read the same way when its user info holds a colon.
    ///
    /// The user info ends at the authority's last `@`, as Go and libcurl read it (so
    /// `user:p@ss@host` hides `p@ss`, not just `p`), and the authority at the first `/`, `?` or
    /// `#` after the scheme.
    package static func url(_ text: String) -> String {
        let schemeEnd = text.firstRange(ofText: "://")?.upperBound
        let start = schemeEnd ?? text.startIndex
        let end = text[start...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? text.endIndex
        guard let at = text[start..<end].lastIndex(of: "@") else { return text }
        let userInfo = text[start..<at]
        if let colon = userInfo.firstIndex(of: ":") {
            if schemeEnd == nil, userInfo.contains(where: \.isWhitespace) { return text }
            return String(text[...colon]) + marker + String(text[at...])
        }
        // Without a password, the user name itself is the secret only in a URL (a token, as git
        // hosts take them); `name@host` without a scheme is an address, not a credential.
        guard schemeEnd != nil, !userInfo.isEmpty else { return text }
        return String(text[..<start]) + marker + String(text[at...])
    }

    /// Every URL-like word of a free text (words end at white space, quotes, commas, `;`, `<`
    /// and `>`) redacted as `url(_:)` does: a library's error message may quote a proxy setting.
    package static func urls(in text: String) -> String {
        guard text.contains("@") else { return text }
        var output = ""
        var word = ""
        for character in text {
            if character.isWhitespace || "\"'`,;<>()".contains(character) {
                output += url(word) + String(character)
                word = ""
            } else {
                word.append(character)
            }
        }
        return output + url(word)
    }

    /// `text` with each of `secrets` (those of 8 characters or more: shorter ones would hide
    /// ordinary words) and every JSON Web Token replaced. A secret is looked for as sent, as a
    /// server may quote it (percent-encoded, or JSON-escaped with `\/`), and in pieces: any run
    /// of `pieceLength` bytes or more that stands in a secret is replaced, so a server that echoes
    /// part of a token, or splits it with a combining mark, gives none of it away. Matching is by
    /// bytes, so no mark or joiner after a secret can hide it either.
    package static func secrets(_ secrets: [String], in text: String) -> String {
        var bytes = Array(text.utf8)
        for secret in secrets where secret.utf8.count >= 8 {
            // The secret as sent first: a quoted form redacted before it would leave the sent
            // form's last bytes (after its last `/` or `=`) too short a run to be found.
            var forms: [[UInt8]] = []
            for form in [Array(secret.utf8), percentEncoded(secret), secret.utf8.flatMap { $0 == UInt8(ascii: "/") ? [UInt8(ascii: "\\"), $0] : [$0] }] where !forms.contains(form) {
                forms.append(form)
            }
            for form in forms {
                bytes = form.count > pieceLength ? replacingPieces(of: form, in: bytes) : replacing(form, in: bytes)
            }
        }
        return webTokens(in: String(decoding: bytes, as: UTF8.self))
    }

    /// The shortest run of a long secret's bytes that is redacted on its own: 16.
    static let pieceLength = 16

    /// `bytes` with every run of at least `pieceLength` bytes that occurs in `secret` replaced by
    /// the marker (overlapping and adjacent runs as one).
    private static func replacingPieces(of secret: [UInt8], in bytes: [UInt8]) -> [UInt8] {
        guard bytes.count >= pieceLength else { return bytes }
        var pieces = Set<ArraySlice<UInt8>>()
        for start in 0...(secret.count - pieceLength) { pieces.insert(secret[start..<start + pieceLength]) }
        var hidden = [Bool](repeating: false, count: bytes.count)
        var any = false
        for start in 0...(bytes.count - pieceLength) where pieces.contains(bytes[start..<start + pieceLength]) {
            for index in start..<start + pieceLength { hidden[index] = true }
            any = true
        }
        guard any else { return bytes }
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if hidden[index] {
                output += Array(marker.utf8)
                while index < bytes.count, hidden[index] { index += 1 }
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return output
    }

    /// `text` percent-encoded as RFC 3986 query values are: everything but letters, digits and
    /// `-._~` as `%XX` (upper-case hex).
    static func percentEncoded(_ text: String) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var output: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                output.append(byte)
            default:
                output += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return output
    }

    /// `bytes` with every occurrence of `needle` replaced by the marker.
    private static func replacing(_ needle: [UInt8], in bytes: [UInt8]) -> [UInt8] {
        guard let first = needle.first, bytes.count >= needle.count else { return bytes }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == first, index + needle.count <= bytes.count, bytes[index..<index + needle.count].elementsEqual(needle) {
                output += Array(marker.utf8)
                index += needle.count
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return output
    }

    /// `text` with the token after every `Bearer ` (any case) replaced, when it is 8 characters
    /// or more: an `Authorization` header quoted back.
    static func bearerTokens(in text: String) -> String {
        let bytes = Array(text.utf8)
        let word = Array("bearer ".utf8)
        guard bytes.count > word.count else { return text }
        var output: [UInt8] = []
        var index = 0
        var changed = false
        while index < bytes.count {
            if index + word.count <= bytes.count,
               zip(bytes[index..<index + word.count], word).allSatisfy({ ($0 | 0x20) == $1 || $0 == $1 }) {
                output += bytes[index..<index + word.count]
                var end = index + word.count
                while end < bytes.count, ![0x20, 0x09, 0x0A, 0x0D, 0x22, 0x27, 0x2C, 0x3B].contains(bytes[end]) { end += 1 }
                if end - index - word.count >= 8 {
                    output += Array(marker.utf8)
                    changed = true
                } else {
                    output += bytes[(index + word.count)..<end]
                }
                index = end
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return changed ? String(decoding: output, as: UTF8.self) : text
    }

    /// `text` with every JSON Web Token (`eyJ...`: three base64url parts joined by dots, the
    /// last possibly empty) replaced: a service-account or OIDC token echoed by a server.
    package static func webTokens(in text: String) -> String {
        let text = bearerTokens(in: text)
        guard text.containsText("eyJ") else { return text }
        let scalars = Array(text.unicodeScalars)
        func isBase64URL(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar {
            case "A"..."Z", "a"..."z", "0"..."9", "-", "_", "=": return true
            default: return false
            }
        }
        var output = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            if scalars[index] == "e", index + 2 < scalars.count, scalars[index + 1] == "y", scalars[index + 2] == "J",
               index == 0 || !isBase64URL(scalars[index - 1]) || scalars[index - 1] == "=" {
                var end = index
                var parts = 1
                while end < scalars.count, isBase64URL(scalars[end]) || (scalars[end] == "." && parts < 3) {
                    if scalars[end] == "." { parts += 1 }
                    end += 1
                }
                if parts == 3 {
                    output.append(contentsOf: marker.unicodeScalars)
                    index = end
                    continue
                }
            }
            output.append(scalars[index])
            index += 1
        }
        return String(output)
    }
}
