// SHA-256, SHA-1 and HMAC-SHA256 of Support/Digest.swift: the published examples, and BoringSSL's
// answers (swift-crypto, a test-only dependency) for every length around the block boundaries.
import Crypto
@testable import ECRCredentials
import Testing

@Suite struct DigestTests {
    private static func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }

    private static func bytes(hex text: String) -> [UInt8] {
        let digits = Array(text.utf8)
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
    }

    /// FIPS 180-4's examples (NIST's "Examples with intermediate values"): one block, two
    /// blocks, and a million bytes.
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
    ])
    func publishedExamples(message: String, sha256: String, sha1: String) {
        #expect(Self.hex(ECRCredentials.Digest.sha256(Array(message.utf8))) == sha256)
        #expect(Self.hex(ECRCredentials.Digest.sha1(Array(message.utf8))) == sha1)
    }

    @Test func aMillionBytes() {
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(Self.hex(ECRCredentials.Digest.sha256(message)) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        #expect(Self.hex(ECRCredentials.Digest.sha1(message)) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    /// RFC 4231's test cases 1-4, 6 and 7 (case 5 truncates its output): short and long keys
    /// (131 bytes: hashed first) and long data.
    @Test(arguments: [
        ("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        ("4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        (String(repeating: "aa", count: 20), String(repeating: "dd", count: 50),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        ("0102030405060708090a0b0c0d0e0f10111213141516171819", String(repeating: "cd", count: 50),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        (String(repeating: "aa", count: 131),
         "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65204b6579202d2048617368204b6579204669727374",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        (String(repeating: "aa", count: 131),
         "5468697320697320612074657374207573696e672061206c6172676572207468616e20626c6f636b2d73697a65206b657920616e642061206c6172676572207468616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565647320746f20626520686173686564206265666f7265206265696e6720757365642062792074686520484d414320616c676f726974686d2e",
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ])
    func rfc4231(key: String, data: String, mac: String) {
        #expect(Self.hex(ECRCredentials.Digest.hmacSHA256(key: Self.bytes(hex: key), message: Self.bytes(hex: data))) == mac)
    }

    /// Every message length from 0 to 300 bytes (the padding's boundaries at 55, 56, 63 and 64
    /// bytes and their multiples) and key lengths around the 64-byte block, against BoringSSL.
    @Test func agreesWithBoringSSLAtEveryLength() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...300 {
            let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect(ECRCredentials.Digest.sha256(message) == Array(SHA256.hash(data: message)), "SHA-256 of \(length) bytes")
            #expect(ECRCredentials.Digest.sha1(message) == Array(Insecure.SHA1.hash(data: message)), "SHA-1 of \(length) bytes")
            let key = Array(message.prefix(length % 130))
            let expected = Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
            #expect(ECRCredentials.Digest.hmacSHA256(key: key, message: message) == expected, "HMAC with a \(key.count)-byte key")
        }
    }
}
