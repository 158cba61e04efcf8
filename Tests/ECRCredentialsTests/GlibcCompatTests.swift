// The C library functions the release binaries define for themselves (Sources/CGlibcCompat),
// against glibc's own where this machine's glibc has them.
import CGlibcCompat
import Glibc
import Testing

@Suite struct GlibcCompatTests {
    /// What a `_dl_find_object` answered: the return code and, when found, the object's mapped
    /// range, link map and unwind table.
    struct Answer: Equatable, CustomStringConvertible {
        var code: Int32
        var start: UInt = 0
        var end: UInt = 0
        var linkMap: UInt = 0
        var ehFrame: UInt = 0
        var description: String {
            code != 0 ? "not found (\(code))" : "[\(hex(start)), \(hex(end))) map \(hex(linkMap)) eh_frame \(hex(ehFrame))"
        }
        private func hex(_ value: UInt) -> String { "0x" + String(value, radix: 16) }
    }

    static func local(_ address: UnsafeRawPointer) -> Answer {
        var start: UnsafeMutableRawPointer?, end: UnsafeMutableRawPointer?
        var ehFrame: UnsafeMutableRawPointer?, linkMap: UnsafeMutableRawPointer?
        let code = cglibc_find_object(address, &start, &end, &ehFrame, &linkMap)
        guard code == 0 else { return Answer(code: code) }
        return Answer(code: 0, start: UInt(bitPattern: start), end: UInt(bitPattern: end),
                      linkMap: UInt(bitPattern: linkMap), ehFrame: UInt(bitPattern: ehFrame))
    }

    /// glibc's `_dl_find_object` (2.35 and later), looked up by name. Its result is glibc's
    /// `struct dl_find_object`: a 64-bit flags word, then the map start, map end, link map and
    /// unwind table pointers (on x86-64 and AArch64, which have no data base), then reserved words.
    static func glibc(_ address: UnsafeRawPointer) throws -> Answer {
        let symbol = try #require(dlsym(UnsafeMutableRawPointer(bitPattern: 0), "_dl_find_object"),
                                  "this machine's glibc (2.35 or later is needed to build the release) has no _dl_find_object")
        typealias Find = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer) -> Int32
        let find = unsafeBitCast(symbol, to: Find.self)
        let words = UnsafeMutableBufferPointer<UInt>.allocate(capacity: 32)
        defer { words.deallocate() }
        words.initialize(repeating: 0)
        let code = find(UnsafeMutableRawPointer(mutating: address), UnsafeMutableRawPointer(words.baseAddress!))
        guard code == 0 else { return Answer(code: code) }
        return Answer(code: 0, start: words[1], end: words[2], linkMap: words[3], ehFrame: words[4])
    }

    nonisolated(unsafe) static var someData = 42

    @Test func findObjectAgreesWithGlibc() throws {
        let inTests: @convention(c) (UnsafeRawPointer?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                     UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                     UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32 = cglibc_find_object
        let inLibc = try #require(dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc"))
        let heap = try #require(malloc(64))
        defer { free(heap) }
        var onStack = 0
        let addresses: [(String, UnsafeRawPointer)] = [
            ("code in this program", unsafeBitCast(inTests, to: UnsafeRawPointer.self)),
            ("data in this program", UnsafeRawPointer(withUnsafePointer(to: &Self.someData) { $0 })),
            ("code in libc", UnsafeRawPointer(inLibc)),
            ("the heap", UnsafeRawPointer(heap)),
            ("the stack", withUnsafePointer(to: &onStack) { UnsafeRawPointer($0) }),
        ]
        var found = 0
        for (place, address) in addresses {
            let (local, glibc) = (Self.local(address), try Self.glibc(address))
            #expect(local.code == glibc.code, "\(place): \(local) against glibc's \(glibc)")
            guard local.code == 0, glibc.code == 0 else { continue }
            found += 1
            // The unwinder reads the table and nothing else (x86-64 has no data base); the link
            // map names the same object; both ranges hold the address. (glibc may give the range
            // of the one segment when an object's segments are not contiguous: the ranges can differ.)
            #expect(local.ehFrame == glibc.ehFrame && local.ehFrame != 0, "\(place): \(local) against glibc's \(glibc)")
            #expect(local.linkMap == glibc.linkMap, "\(place): \(local) against glibc's \(glibc)")
            let value = UInt(bitPattern: address)
            #expect(local.start <= value && value < local.end, "\(place): \(local)")
            #expect(glibc.start <= value && value < glibc.end, "\(place): glibc's \(glibc)")
        }
        #expect(found == 3)
    }
}
