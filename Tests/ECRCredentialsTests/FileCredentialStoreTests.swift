// Private, atomic, corruption-tolerant files for tokens and logins.
import ECRCredentials
import Foundation
import Testing

@Suite struct FileCredentialStoreTests {
    static func record(_ registry: String, identity: String = "abc", secret: String = "s") -> CredentialRecord {
        CredentialRecord(kind: .token, registry: registry, serverURL: registry, identity: identity, username: "AWS",
                         secret: secret, issuedAt: 100, expiresAt: 200)
    }

    @Test func savesPrivatelyAndReadsBack() throws {
        let scratch = try TemporaryDirectory()
        let store = FileCredentialStore(directory: scratch.path + "/cache/docker-credential-ecr")
        let record = Self.record("a.example")
        try store.save(record)
        #expect(try store.record(kind: .token, registry: "a.example", identity: "abc") == record)
        #expect(try scratch.mode(of: "cache/docker-credential-ecr") == 0o700)
        #expect(try scratch.mode(of: "cache/docker-credential-ecr/a.example@token-abc.json") == 0o600)
        #expect(try store.record(kind: .token, registry: "a.example", identity: "other") == nil)
        #expect(try store.record(kind: .login, registry: "a.example", identity: "abc") == nil)
    }

    @Test func narrowsAnExistingWideDirectory() throws {
        let scratch = try TemporaryDirectory()
        let directory = scratch.path + "/d"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o777])
        try FileCredentialStore(directory: directory).save(Self.record("a.example"))
        #expect(try scratch.mode(of: "d") == 0o700)
    }

    @Test(arguments: ["", "{", "null", "garbage\u{0}\u{1}", "{\"version\":99,\"kind\":\"token\"}",
                      "{\"version\":1,\"kind\":\"token\",\"registry\":\"other.example\",\"serverURL\":\"x\",\"identity\":\"abc\",\"username\":\"AWS\",\"secret\":\"x\",\"issuedAt\":1,\"expiresAt\":2}"])
    func corruptOrForeignFilesAreAbsentAndGetReplaced(content: String) throws {
        let scratch = try TemporaryDirectory()
        let store = FileCredentialStore(directory: scratch.path)
        let path = store.path(kind: .token, registry: "a.example", identity: "abc")
        try content.write(toFile: path, atomically: false, encoding: .utf8)
        #expect(try store.record(kind: .token, registry: "a.example", identity: "abc") == nil)
        #expect(try store.allRecords().filter { $0.registry == "a.example" }.isEmpty)
        try store.save(Self.record("a.example"))
        #expect(try store.record(kind: .token, registry: "a.example", identity: "abc") != nil)
    }

    @Test func removeAllTakesEveryIdentityOfOneRegistryOnly() throws {
        let scratch = try TemporaryDirectory()
        let store = FileCredentialStore(directory: scratch.path)
        try store.save(Self.record("a.example", identity: "one"))
        try store.save(Self.record("a.example", identity: "two"))
        try store.save(Self.record("a.example.evil", identity: "one"))
        try store.save(Self.record("b.example", identity: "one"))
        #expect(try store.removeAll(registry: "a.example") == 2)
        #expect(try store.allRecords().map(\.registry).sorted() == ["a.example.evil", "b.example"])
        #expect(try store.removeAll(registry: "never.example") == 0)
        #expect(try FileCredentialStore(directory: scratch.path + "/missing").removeAll(registry: "x") == 0)
    }

    @Test func ipv6RegistriesMakeSafeFileNames() throws {
        let scratch = try TemporaryDirectory()
        let store = FileCredentialStore(directory: scratch.path)
        try store.save(Self.record("[::1]:5000"))
        #expect(try store.record(kind: .token, registry: "[::1]:5000", identity: "abc") != nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["%5B%3A%3A1%5D%3A5000@token-abc.json"])
    }

    @Test func freshnessIsHalfTheLifetime() {
        let record = CredentialRecord(kind: .token, registry: "r", serverURL: "r", identity: "i", username: "AWS", secret: "s",
                                      issuedAt: 0, expiresAt: 43_200)
        #expect(record.isFresh(at: 21_599))
        #expect(!record.isFresh(at: 21_600))
        #expect(record.isUsable(at: 43_139))
        #expect(!record.isUsable(at: 43_141))
    }
}
