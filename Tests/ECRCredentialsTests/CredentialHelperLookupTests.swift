// How often one `get` asks each tier and resolves the identity, counted from its debug log.
import ECRCredentials
import Foundation
import Synchronization
import Testing

@Suite struct CredentialHelperLookupTests {
    static let host = CredentialHelperTests.host

    /// A keyring-mode helper over an in-memory kernel (`FakeKernelKeys`) and an in-memory Secret
    /// Service, logging at debug level.
    struct Fixture {
        let scratch: TemporaryDirectory
        let transport: MockTransport
        let keys = FakeKernelKeys()
        let secretService = MemoryCredentialStore(name: "keyring")
        let opened = Tally()
        let messages = CredentialHelperTests.Messages()
        let environment: Environment
        let configuration: HelperConfiguration
        let helper: CredentialHelper

        init(replies: [MockTransport.Reply]) throws {
            scratch = try TemporaryDirectory()
            transport = MockTransport(replies)
            environment = Environment(["AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "HOME": scratch.path,
                                       "AWS_EC2_METADATA_DISABLED": "true", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1/bus"])
            configuration = HelperConfiguration(tokens: TokenSettings(cacheBackend: .keyring, tokenDirectory: scratch.path + "/tokens"),
                                                    loginDirectory: scratch.path + "/logins")
            let (secretService, opened, messages) = (self.secretService, self.opened, self.messages)
            let boundaries = CredentialStores.Boundaries(sessionBus: { _ in true },
                                                         openKeyring: { _ in
                                                             opened.count.withLock { $0 += 1 }
                                                             return secretService
                                                         },
                                                         kernelKeys: keys)
            helper = CredentialHelper(configuration: configuration, environment: environment, transport: transport, clock: ManualClock(),
                                      diagnostics: Diagnostics(level: .debug, sink: { messages.append($0) }), boundaries: boundaries)
        }

        /// The kernel tier as another process of the user sees it.
        var kernel: KernelKeyringStore {
            KernelKeyringStore(scope: KernelKeyringStore.scope(environment: environment),
                               generationFile: CredentialStores.generationFile(configuration), keys: keys, diagnostics: Diagnostics(level: .quiet))
        }

        /// What the log shows since `mark` characters.
        func counts(since mark: Int = 0) -> Counts {
            let lines = messages.text.dropFirst(mark).split(separator: "\n")
            func count(_ text: String) -> Int { lines.count { $0.contains(text) } }
            return Counts(identities: count("credentials from "),
                          kernelLogins: count("login lookup (kernel keyring) took"), kernelTokens: count("token lookup (kernel keyring) took"),
                          serviceLogins: count("login lookup (Secret Service) took"), serviceTokens: count("token lookup (Secret Service) took"),
                          fileLogins: count("login lookup (file) took"), keyringOpened: opened.count.withLock { $0 })
        }
    }

    /// A count shared with a closure.
    final class Tally: Sendable {
        let count = Mutex(0)
    }

    /// Identity resolutions, lookups of each tier by kind, and how often the Secret Service was opened.
    struct Counts: Equatable, CustomStringConvertible {
        var identities: Int
        var kernelLogins: Int, kernelTokens: Int
        var serviceLogins: Int, serviceTokens: Int
        var fileLogins: Int
        var keyringOpened: Int

        var description: String {
            "identities=\(identities) kernel=\(kernelLogins)/\(kernelTokens) secret-service=\(serviceLogins)/\(serviceTokens) "
                + "files=\(fileLogins) opened=\(keyringOpened)"
        }
    }

    static let token = MockTransport.ecrToken("tok1", expiresAt: 1_800_000_000 + 43_200)

    @Test func aColdFetchAsksEachTierOnceAndAHitOnlyTheKernel() throws {
        let fixture = try Fixture(replies: [Self.token])
        #expect(try fixture.helper.get(Self.host).secret == "tok1")
        #expect(fixture.counts() == Counts(identities: 1, kernelLogins: 1, kernelTokens: 1, serviceLogins: 1, serviceTokens: 1,
                                          fileLogins: 1, keyringOpened: 1))
        // The Secret Service had no login: the kernel tier noted it, and kept the token.
        #expect(fixture.kernel.loginState(registry: Self.host) == .none)

        let mark = fixture.messages.text.count
        #expect(try fixture.helper.get(Self.host).secret == "tok1")
        #expect(fixture.counts(since: mark) == Counts(identities: 1, kernelLogins: 1, kernelTokens: 1, serviceLogins: 0, serviceTokens: 0,
                                                      fileLogins: 1, keyringOpened: 1))
        #expect(fixture.messages.text.dropFirst(mark).contains("cache hit (kernel keyring)"))
        #expect(fixture.transport.requests.count == 1)
    }

    @Test func aFetchBehindANoLoginNoteNeverAsksTheSecretServiceForTheLoginNorTheKernelTwice() throws {
        let fixture = try Fixture(replies: [Self.token])
        try fixture.kernel.saveNoLogin(registry: Self.host)
        #expect(try fixture.helper.get(Self.host).secret == "tok1")
        #expect(fixture.counts() == Counts(identities: 1, kernelLogins: 1, kernelTokens: 1, serviceLogins: 0, serviceTokens: 1,
                                          fileLogins: 1, keyringOpened: 1))
        #expect(fixture.secretService.records.map(\.secret) == ["tok1"])
        #expect(try fixture.kernel.record(kind: .token, registry: Self.host, identity: fixture.secretService.records[0].identity)?.secret == "tok1")
    }

    @Test func aLoginInTheKernelTierAnswersWithoutTheSecretServiceOrAnIdentity() throws {
        let fixture = try Fixture(replies: [])
        let login = CredentialRecord(kind: .login, registry: Self.host, serverURL: Self.host, identity: "", username: "me",
                                     secret: "stored", issuedAt: 1_800_000_000, expiresAt: nil)
        try fixture.kernel.save(login)
        #expect(try fixture.helper.get(Self.host).secret == "stored")
        #expect(fixture.counts() == Counts(identities: 0, kernelLogins: 1, kernelTokens: 0, serviceLogins: 0, serviceTokens: 0,
                                          fileLogins: 1, keyringOpened: 0))
    }

    @Test func aNewerLoginFileWinsOverTheKernelTiersLogin() throws {
        let fixture = try Fixture(replies: [])
        try fixture.kernel.save(CredentialRecord(kind: .login, registry: Self.host, serverURL: Self.host, identity: "", username: "me",
                                                 secret: "older", issuedAt: 1_700_000_000, expiresAt: nil))
        try FileCredentialStore(directory: fixture.scratch.path + "/logins")
            .save(CredentialRecord(kind: .login, registry: Self.host, serverURL: Self.host, identity: "", username: "me",
                                   secret: "newer", issuedAt: 1_700_000_100, expiresAt: nil))
        #expect(try fixture.helper.get(Self.host).secret == "newer")
        #expect(fixture.counts().keyringOpened == 0)
    }

    @Test func aRefusedKernelIsAskedOnceAndTheSecretServiceAnswers() throws {
        let fixture = try Fixture(replies: [Self.token])
        let refusing = FakeKernelKeys(refusal: EPERM)
        let (messages, secretService) = (fixture.messages, fixture.secretService)
        let helper = CredentialHelper(configuration: fixture.helper.configuration, environment: fixture.environment,
                                      transport: fixture.transport, clock: ManualClock(),
                                      diagnostics: Diagnostics(level: .debug, sink: { messages.append($0) }),
                                      boundaries: CredentialStores.Boundaries(sessionBus: { _ in true },
                                                                              openKeyring: { _ in secretService },
                                                                              kernelKeys: refusing))
        #expect(try helper.get(Self.host).secret == "tok1")
        #expect(refusing.calls == 1)  // the first call was refused: the tier is off for the rest of the request
        #expect(try helper.get(Self.host).secret == "tok1")
        #expect(refusing.calls == 2)
        #expect(fixture.transport.requests.count == 1)
        // The tier knows nothing: each get asks the Secret Service once for the login.
        #expect(fixture.counts().serviceLogins == 2)
    }
}

/// Single flight without a second read: the cache is read again under the fetch lock only when
/// another process held the lock since the read.
@Suite struct TokenServiceLockReadTests {
    /// A store whose next read runs `duringNextRead` (another process) before it answers.
    final class RacingStore: CredentialStore, @unchecked Sendable {
        let name = "racing"
        let inner = MemoryCredentialStore()
        private let hook = Mutex<(@Sendable () -> Void)?>(nil)
        private let readCount = Mutex(0)

        func duringNextRead(_ action: @escaping @Sendable () -> Void) { hook.withLock { $0 = action } }
        var reads: Int { readCount.withLock { $0 } }

        func record(kind: CredentialRecord.Kind, registry: String, identity: String) throws -> CredentialRecord? {
            readCount.withLock { $0 += 1 }
            let answer = try inner.record(kind: kind, registry: registry, identity: identity)
            hook.withLock { hook in
                let action = hook
                hook = nil
                return action
            }?()
            return answer
        }

        func save(_ record: CredentialRecord) throws { try inner.save(record) }
        func remove(kind: CredentialRecord.Kind, registry: String, identity: String) throws {
            try inner.remove(kind: kind, registry: registry, identity: identity)
        }
        func removeAll(registry: String) throws -> Int { try inner.removeAll(registry: registry) }
        func removeTokens(registry: String, except identity: String) throws -> Int { try inner.removeTokens(registry: registry, except: identity) }
        func allRecords() throws -> [CredentialRecord] { try inner.allRecords() }
    }

    static let registry = TokenServiceTests.registry

    @Test func theCacheIsReadAgainUnderTheLockOnlyWhenAnotherProcessSavedMeanwhile() throws {
        let scratch = try TemporaryDirectory()
        let transport = MockTransport([MockTransport.ecrToken("tok1", expiresAt: 1_800_043_200),
                                       MockTransport.ecrToken("tok2", expiresAt: 1_800_043_200)])
        let store = RacingStore()
        let messages = CredentialHelperTests.Messages()
        let service = TokenService(settings: TokenSettings(cacheBackend: .file, tokenDirectory: scratch.path + "/tokens"),
                                   cache: TokenCache(store: store),
                                   environment: Environment(TokenServiceTests.keys.merging(["HOME": scratch.path, "AWS_EC2_METADATA_DISABLED": "true"]) { $1 }),
                                   transport: transport, clock: ManualClock(),
                                   diagnostics: Diagnostics(level: .debug, sink: { messages.append($0) }))
        // The first fetch ever creates the lock file: one read.
        #expect(try service.token(for: Self.registry).password == "tok1")
        #expect(store.reads == 1)
        let lockDirectory = scratch.path + "/tokens/locks"
        let lockPath = lockDirectory + "/" + (try #require(try FileManager.default.contentsOfDirectory(atPath: lockDirectory).first { $0.hasSuffix(".lock") }))
        func ageLockFile() throws {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -60)], ofItemAtPath: lockPath)
        }

        // Nobody held the lock since: the token is fetched after one read.
        _ = try store.inner.removeAll(registry: Self.registry.host)
        try ageLockFile()
        #expect(try service.token(for: Self.registry).password == "tok2")
        #expect(store.reads == 2)
        #expect(transport.requests.count == 2)

        // Another process fetches between the read and the lock, and marks the lock file: the
        // cache is read again under the lock, and its token served without a fetch.
        let kept = try #require(store.inner.records.first)
        _ = try store.inner.removeAll(registry: Self.registry.host)
        try ageLockFile()
        let inner = store.inner
        store.duringNextRead {
            guard let other = try? FileLock(path: lockPath, timeout: 1) else { return }
            try? inner.save(CredentialRecord(kind: .token, registry: kept.registry, serverURL: kept.serverURL, identity: kept.identity,
                                             username: "AWS", secret: "from-another-process", issuedAt: kept.issuedAt, expiresAt: kept.expiresAt))
            other.markChanged()
        }
        #expect(try service.token(for: Self.registry).password == "from-another-process")
        #expect(store.reads == 4)
        #expect(transport.requests.count == 2)
        #expect(messages.text.contains("another process fetched the token"))
    }
}

/// The kubelet plugin's request makes the same one pass: one identity resolution and one cache
/// read, cold or hit.
@Suite struct CredentialProviderPluginLookupTests {
    @Test func aPluginRequestResolvesTheIdentityOnceAndReadsTheCacheOnce() throws {
        let scratch = try TemporaryDirectory()
        let clock = ManualClock(CredentialProviderPluginTests.now)
        let transport = MockTransport([MockTransport.ecrToken("tok1", expiresAt: CredentialProviderPluginTests.now + 43_200)])
        let messages = CredentialHelperTests.Messages()
        let environment = Environment(TokenServiceTests.keys.merging(["HOME": scratch.path, "AWS_EC2_METADATA_DISABLED": "true"]) { $1 })
        let diagnostics = Diagnostics(level: .debug, sink: { messages.append($0) })
        let service = TokenService(settings: TokenSettings(cacheBackend: .file, tokenDirectory: scratch.path + "/cache"),
                                   cache: TokenCache(store: FileCredentialStore(directory: scratch.path + "/cache", diagnostics: diagnostics)),
                                   environment: environment, transport: transport, clock: clock, diagnostics: diagnostics)
        let plugin = CredentialProviderPlugin(service: service, environment: environment, clock: clock, diagnostics: diagnostics)
        let request = try CredentialProviderRequest(json: Array(try CredentialProviderPluginTests.golden("v1-request.json").utf8))
        for expectedSource in ["fetched", "cache"] {
            let mark = messages.text.count
            _ = try plugin.answer(request)
            let lines = messages.text.dropFirst(mark).split(separator: "\n")
            #expect(lines.count { $0.contains("credentials from ") } == 1)
            #expect(lines.count { $0.contains("token lookup (file) took") } == 1)
            #expect(lines.contains { $0.contains("token from \(expectedSource)") })
        }
        #expect(transport.requests.count == 1)
    }
}
