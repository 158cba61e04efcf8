// Listing a private directory: every name comes back whole, whatever its length.
import ECRCredentials
import Foundation
import Testing

@Suite struct DirectoryListingTests {
    /// valgrind: listing a directory copied each entry's whole d_name array, reading past the
    /// entry (uninitialised bytes). Names are now read in place; they must still come back whole.
    @Test func directoryNamesOfEveryLengthComeBackWhole() throws {
        let scratch = try TemporaryDirectory()
        let names = ["a", "reg.example.com_5000@login-any.json", String(repeating: "n", count: 255), "é-ü.json"]
        for name in names {
            #expect(FileManager.default.createFile(atPath: scratch.path + "/" + name, contents: Data()))
        }
        #expect(try PrivateFile.names(in: scratch.path).sorted() == names.sorted())
        #expect(try PrivateFile.names(in: scratch.path + "/missing") == [])
    }
}
