// The three digests this tool computes: SHA-256 (request signing, cache keys), HMAC-SHA256
// (SigV4's signing key and signature) and SHA-1 (the name the AWS CLI gives an SSO token file).

/// SHA-256 and SHA-1 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) over byte arrays.
///
/// Nothing here is secret-dependent in its timing beyond what HMAC's definition implies, and
/// nothing is kept between calls. The inputs are small (a request body, a string to sign, an
/// identity), so each function hashes a padded copy of its input in one pass. Checked against the
/// FIPS 180-4 and RFC 4231 examples and, through the signer, the SigV4 test suite (DigestTests,
/// SigV4TestSuiteTests). A plain enum of non-generic functions: a cache hit computes one digest,
/// and a generic hash type would cost the Swift runtime a protocol conformance scan on every start.
package enum Digest {
    /// The SHA-256 digest of `message`: 32 bytes.
    package static func sha256(_ message: [UInt8]) -> [UInt8] {
        var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
            (0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19)
        var schedule = [UInt32](repeating: 0, count: 64)
        let constants = sha256Constants
        padded(message).withUnsafeBufferPointer { bytes in
            schedule.withUnsafeMutableBufferPointer { w in
                constants.withUnsafeBufferPointer { k in
                    for block in stride(from: 0, to: bytes.count, by: 64) {
                        for t in 0..<16 { w[t] = bigEndianWord(bytes, at: block + 4 * t) }
                        for t in 16..<64 {
                            let s0 = rotateRight(w[t - 15], 7) ^ rotateRight(w[t - 15], 18) ^ (w[t - 15] >> 3)
                            let s1 = rotateRight(w[t - 2], 17) ^ rotateRight(w[t - 2], 19) ^ (w[t - 2] >> 10)
                            w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
                        }
                        var (a, b, c, d, e, f, g, h) = state
                        for t in 0..<64 {
                            let t1 = h &+ (rotateRight(e, 6) ^ rotateRight(e, 11) ^ rotateRight(e, 25)) &+ ((e & f) ^ (~e & g)) &+ k[t] &+ w[t]
                            let t2 = (rotateRight(a, 2) ^ rotateRight(a, 13) ^ rotateRight(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
                            (h, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
                        }
                        state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d,
                                 state.4 &+ e, state.5 &+ f, state.6 &+ g, state.7 &+ h)
                    }
                }
            }
        }
        var digest: [UInt8] = []
        digest.reserveCapacity(32)
        for word in [state.0, state.1, state.2, state.3, state.4, state.5, state.6, state.7] { appendBigEndian(word, to: &digest) }
        return digest
    }

    /// The SHA-1 digest of `message`: 20 bytes. Only for names others chose it for (the AWS
    /// CLI's SSO cache files); SHA-1 resists no collision attack and protects nothing here.
    package static func sha1(_ message: [UInt8]) -> [UInt8] {
        var state: (UInt32, UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476, 0xc3d2_e1f0)
        var schedule = [UInt32](repeating: 0, count: 80)
        padded(message).withUnsafeBufferPointer { bytes in
            schedule.withUnsafeMutableBufferPointer { w in
                for block in stride(from: 0, to: bytes.count, by: 64) {
                    for t in 0..<16 { w[t] = bigEndianWord(bytes, at: block + 4 * t) }
                    for t in 16..<80 { w[t] = rotateLeft(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1) }
                    var (a, b, c, d, e) = state
                    for t in 0..<80 {
                        let (f, k): (UInt32, UInt32) = switch t {
                        case 0..<20: ((b & c) | (~b & d), 0x5a82_7999)
                        case 20..<40: (b ^ c ^ d, 0x6ed9_eba1)
                        case 40..<60: ((b & c) | (b & d) | (c & d), 0x8f1b_bcdc)
                        default: (b ^ c ^ d, 0xca62_c1d6)
                        }
                        (e, d, c, b, a) = (d, c, rotateLeft(b, 30), a, rotateLeft(a, 5) &+ f &+ e &+ k &+ w[t])
                    }
                    state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d, state.4 &+ e)
                }
            }
        }
        var digest: [UInt8] = []
        digest.reserveCapacity(20)
        for word in [state.0, state.1, state.2, state.3, state.4] { appendBigEndian(word, to: &digest) }
        return digest
    }

    /// HMAC-SHA256 of `message` under `key`: 32 bytes. A key longer than SHA-256's 64-byte
    /// block is hashed first, as RFC 2104 says.
    package static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var block = key.count > 64 ? sha256(key) : key
        block += [UInt8](repeating: 0, count: 64 - block.count)
        return sha256(block.map { $0 ^ 0x5c } + sha256(block.map { $0 ^ 0x36 } + message))
    }

    // MARK: The shared parts

    /// `message`, a 1 bit, zeros, and its length in bits as a 64-bit big-endian number, to a
    /// multiple of 64 bytes: the padding both SHA-1 and SHA-256 use.
    private static func padded(_ message: [UInt8]) -> [UInt8] {
        var bytes = message
        bytes.reserveCapacity(message.count + 72)
        bytes.append(0x80)
        while bytes.count % 64 != 56 { bytes.append(0) }
        let bits = UInt64(message.count) &* 8
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
        return bytes
    }

    private static func bigEndianWord(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> UInt32 {
        UInt32(bytes[index]) << 24 | UInt32(bytes[index + 1]) << 16 | UInt32(bytes[index + 2]) << 8 | UInt32(bytes[index + 3])
    }

    private static func appendBigEndian(_ word: UInt32, to bytes: inout [UInt8]) {
        bytes.append(UInt8(truncatingIfNeeded: word >> 24))
        bytes.append(UInt8(truncatingIfNeeded: word >> 16))
        bytes.append(UInt8(truncatingIfNeeded: word >> 8))
        bytes.append(UInt8(truncatingIfNeeded: word))
    }

    private static func rotateRight(_ value: UInt32, _ count: UInt32) -> UInt32 { value >> count | value << (32 - count) }

    private static func rotateLeft(_ value: UInt32, _ count: UInt32) -> UInt32 { value << count | value >> (32 - count) }

    /// The first 32 bits of the fractional parts of the cube roots of the first 64 primes.
    private static let sha256Constants: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]
}
