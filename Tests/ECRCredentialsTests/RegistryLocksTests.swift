// The lock files of the lock directory: their names, and how logout and erase take them.
import ECRCredentials
import Foundation
import Testing

@Suite struct RegistryLocksTests {
    static let host = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
    static let identity = "0123456789abcdef0123456789abcdef"

    @Test(arguments: [
        (host, RegistryLocks.Holder.fetch(identity: identity)), (host, .store), ("registry.example:5000", .store),
        ("reg.example.com_5000", .fetch(identity: identity)), ("[::1]:5000", .store), ("ünicode.example", .store),
    ])
    func aLockFileNameTellsItsRegistryAndHolder(registry: String, holder: RegistryLocks.Holder) throws {
        let path = RegistryLocks(directory: "/locks").path(registry: registry, holder: holder)
        let name = try #require(path.split(separator: "/").last.map(String.init))
        let parsed = try #require(RegistryLocks.parse(name))
        #expect(parsed.registry == registry && parsed.holder == holder)
    }

    @Test(arguments: [
        "\(host)@\(identity).lock.failed", "\(host)@\(identity).lock.123.456.tmp", "\(host)@0123456789ABCDEF0123456789ABCDEF.lock",
        "\(host)@0123.lock", "\(host).lock", "@login.lock", "HOST.example@login.lock", "reg%3a5000@login.lock", "reg%GG@login.lock",
        "reg%3@login.lock", "reg%C3@login.lock", "reg_5000@login.lock", "kernel-generation.lock", "\(host)@\(identity)@login.lock",
    ])
    func otherNamesAreNotLockFiles(name: String) {
        #expect(RegistryLocks.parse(name) == nil)
    }

    /// A lock directory with the fetch locks of two registries and the `store` lock of one.
    struct Fixture {
        let scratch: TemporaryDirectory
        let locks: RegistryLocks
        let other = "210987654321.dkr.ecr.eu-west-1.amazonaws.com"
        let messages = CredentialHelperTests.Messages()

        init() throws {
            scratch = try TemporaryDirectory()
            locks = RegistryLocks(directory: scratch.path + "/locks")
            try PrivateFile.makeDirectory(locks.directory)
            for path in [fetchPath, locks.path(registry: other, holder: .fetch(identity: RegistryLocksTests.identity)), storePath] {
                _ = try FileLock(path: path, timeout: 0)
            }
        }

        var fetchPath: String { locks.path(registry: RegistryLocksTests.host, holder: .fetch(identity: RegistryLocksTests.identity)) }
        var storePath: String { locks.path(registry: RegistryLocksTests.host, holder: .store) }
        var diagnostics: Diagnostics {
            let messages = messages
            return Diagnostics(level: .debug, sink: { messages.append($0) })
        }

        /// Whether another holder could take the lock at `path` right now.
        func isFree(_ path: String) -> Bool {
            (try? FileLock(path: path, timeout: 0, creating: false)) != nil
        }
    }

    @Test func passesTheFreeFetchLocksOfTheNamedRegistriesMarkingEach() throws {
        let fixture = try Fixture()
        let before = try modified(fixture.fetchPath)
        usleep(20_000)
        let held = fixture.locks.hold(registries: [Self.host], logins: false, timeout: 1, diagnostics: fixture.diagnostics)
        // Nobody held it: taken, marked changed (a fetch that began without it will not save), let go.
        #expect(held.locks.isEmpty && held.busy.isEmpty)
        #expect(held.passed == [fixture.fetchPath])
        #expect(fixture.isFree(fixture.fetchPath))
        #expect(try modified(fixture.fetchPath) > before)
        // Neither the logins (not asked for) nor another registry's locks were touched.
        #expect(try modified(fixture.locks.path(registry: fixture.other, holder: .fetch(identity: Self.identity))) <= before)
        withExtendedLifetime(held) {}
    }

    @Test func thousandsOfLockFilesCostOneOpenFileAtATime() throws {
        let fixture = try Fixture()
        for index in 0..<1100 {
            let identity = String(repeating: "0", count: 32 - String(index, radix: 16).count) + String(index, radix: 16)
            _ = try FileLock(path: fixture.locks.path(registry: Self.host, holder: .fetch(identity: identity)), timeout: 0)
        }
        // The free locks are let go as they are passed: while the result is alive, the process
        // holds no more open files than before (give or take other tests running meanwhile),
        // where it used to hold one per lock file and failed with EMFILE past 1,024.
        let openBefore = try PrivateFile.names(in: "/proc/self/fd").count
        let held = fixture.locks.hold(registries: nil, logins: true, timeout: 1)
        let openDuring = try PrivateFile.names(in: "/proc/self/fd").count
        #expect(openDuring - openBefore < 50)
        #expect(held.busy.isEmpty && held.locks.isEmpty)
        #expect(held.passed.count == 1100 + 3)
        withExtendedLifetime(held) {}
    }

    @Test func everyRegistryAndItsLoginsWhenAsked() throws {
        let fixture = try Fixture()
        let held = fixture.locks.hold(registries: nil, logins: true, timeout: 1)
        #expect(held.passed.count == 3 && held.locks.isEmpty && held.busy.isEmpty)
        #expect(held.passed == held.passed.sorted())
        withExtendedLifetime(held) {}
    }

    private func modified(_ path: String) throws -> Double {
        var info = stat()
        guard stat(path, &info) == 0 else { throw SystemError.current("stat", path: path) }
        return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
    }

    @Test func theStoreLockOfANamedRegistryIsMadeWhenMissing() throws {
        let scratch = try TemporaryDirectory()
        let locks = RegistryLocks(directory: scratch.path + "/locks")
        let held = locks.hold(registries: ["registry.example:5000"], logins: true, timeout: 1)
        #expect(held.locks.map(\.path) == [locks.path(registry: "registry.example:5000", holder: .store)])
        #expect(try scratch.mode(of: "locks") == 0o700)
        #expect(try scratch.mode(of: "locks/registry.example%3A5000@login.lock") == 0o600)
        withExtendedLifetime(held) {}
    }

    @Test func aLockStillHeldAtTheTimeoutIsReportedAndTheRestAreTaken() throws {
        let fixture = try Fixture()
        let fetch = try FileLock(path: fixture.fetchPath, timeout: 0)
        let store = try FileLock(path: fixture.storePath, timeout: 0)
        let clock = ManualClock()
        let held = fixture.locks.hold(registries: nil, logins: true, timeout: 30, clock: clock)
        // One budget for all the waits: 30 s, not 30 s for each busy lock.
        #expect(abs(clock.slept.reduce(0, +) - 30) < 1e-9)
        #expect(held.locks.isEmpty && held.passed == [fixture.locks.path(registry: fixture.other, holder: .fetch(identity: Self.identity))])
        let busy = held.busy.sorted { $0.path < $1.path }
        #expect(busy.map(\.path) == [fixture.fetchPath, fixture.storePath].sorted())
        let fetchBusy = try #require(busy.first { $0.holder == .fetch(identity: Self.identity) })
        #expect(fetchBusy.registry == Self.host && abs(fetchBusy.waited - 30) < 1e-9)
        #expect("\(fetchBusy)" == "a token fetch for \(Self.host) was still running after 30 s (it holds \(fixture.fetchPath))")
        let storeBusy = try #require(busy.first { $0.holder == .store })
        #expect("\(storeBusy)".hasPrefix("a `store` of the login for \(Self.host) was still running after 30 s"))
        withExtendedLifetime((fetch, store, held)) {}
    }

    @Test func aLockFreedDuringTheWaitIsTaken() throws {
        let fixture = try Fixture()
        let holder = LockHolder(try FileLock(path: fixture.fetchPath, timeout: 0))
        let release = Thread {
            Thread.sleep(forTimeInterval: 0.3)
            holder.release()
        }
        let started = Date()
        release.start()
        let held = fixture.locks.hold(registries: [Self.host], logins: false, timeout: 30)
        let waited = Date().timeIntervalSince(started)
        // Waited for: held until the removal is done, and marked.
        #expect(held.locks.map(\.path) == [fixture.fetchPath] && held.busy.isEmpty && held.passed.isEmpty)
        #expect(!fixture.isFree(fixture.fetchPath))
        #expect(waited >= 0.25 && waited < 10)
        withExtendedLifetime(held) {}
    }

    @Test func symbolicLinksAndOtherFilesUnderALockNameAreNeverTaken() throws {
        let fixture = try Fixture()
        // A link to a file someone holds, a FIFO, a directory: none is waited for or opened as a lock.
        let elsewhere = fixture.scratch.path + "/elsewhere.lock"
        let held = try FileLock(path: elsewhere, timeout: 0)
        let link = fixture.locks.path(registry: "link.example", holder: .fetch(identity: Self.identity))
        let fifo = fixture.locks.path(registry: "fifo.example", holder: .fetch(identity: Self.identity))
        let directory = fixture.locks.path(registry: "directory.example", holder: .store)
        #expect(symlink(elsewhere, link) == 0)
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(mkdir(directory, 0o700) == 0)
        let clock = ManualClock()
        let result = fixture.locks.hold(registries: nil, logins: true, timeout: 30, clock: clock, diagnostics: fixture.diagnostics)
        #expect(clock.slept.isEmpty)
        #expect(result.busy.isEmpty && result.locks.isEmpty && result.passed.count == 3)
        let text = fixture.messages.text
        #expect(text.contains("ignoring the lock file \(link): refusing \(link): it is a symbolic link"))
        #expect(text.contains("ignoring the lock file \(fifo): refusing \(fifo): it is a FIFO, not a regular file"))
        #expect(text.contains("ignoring the lock file \(directory)"))
        withExtendedLifetime((held, result)) {}
    }
}

/// A lock another thread lets go of.
final class LockHolder: @unchecked Sendable {
    private let guarding = NSLock()
    private var lock: FileLock?

    init(_ lock: FileLock) {
        self.lock = lock
    }

    func release() {
        guarding.withLock { lock = nil }
    }
}

@Suite struct RemovalWaitsForFetchesTests {
    static let host = "123456789012.dkr.ecr.us-west-2.amazonaws.com"

    /// A helper with one cached token (and its fetch lock), fetched through a scripted ECR.
    struct Fixture {
        let scratch: TemporaryDirectory
        let context: HelperContext
        let clock = ManualClock()
        let messages = CredentialHelperTests.Messages()

        init() throws {
            scratch = try TemporaryDirectory()
            let configuration = HelperConfiguration(tokens: TokenSettings(cacheBackend: .file, tokenDirectory: scratch.path + "/tokens"),
                                                    loginDirectory: scratch.path + "/logins")
            let messages = messages
            context = HelperContext(configuration: configuration,
                                    environment: Environment(["HOME": scratch.path, "AWS_EC2_METADATA_DISABLED": "true",
                                                              "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"]),
                                    transport: MockTransport([MockTransport.ecrToken("tok1", expiresAt: 1_800_000_000 + 43_200)]),
                                    clock: clock, diagnostics: Diagnostics(level: .warning, sink: { messages.append($0) }))
            _ = try CredentialHelper(context).get(RemovalWaitsForFetchesTests.host)
        }

        /// The fetch lock the `get` made, as if a fetch held it now.
        func holdFetchLock() throws -> FileLock {
            let directory = context.configuration.tokens.lockDirectory
            let name = try #require(try FileManager.default.contentsOfDirectory(atPath: directory).first { $0.hasSuffix(".lock") })
            return try FileLock(path: directory + "/" + name, timeout: 0)
        }
    }

    @Test func logoutRemovesWhatItCanAndSaysWhichFetchIsStillRunning() throws {
        let fixture = try Fixture()
        var fetch: FileLock? = try fixture.holdFetchLock()
        let path = try #require(fetch?.path)
        let failure = try #require(throws: TokenCacheCommands.Incomplete.self) {
            try TokenCacheCommands(fixture.context).logout([], logins: false)
        }
        #expect(failure.removed == 1 && failure.problem == nil)
        #expect(failure.description == "removed 1 cached entry, but a token fetch for \(Self.host) was still running after 30 s "
                    + "(it holds \(path)), and what it saves may stay (run logout again once it has finished)")
        #expect(abs(fixture.clock.slept.reduce(0, +) - 30) < 1e-9)
        #expect(try FileCredentialStore(directory: fixture.scratch.path + "/tokens").allRecords().isEmpty)
        withExtendedLifetime(fetch) {}
        fetch = nil
        // Once the fetch is over, logout succeeds.
        #expect(try TokenCacheCommands(fixture.context).logout([Self.host], logins: false) == 0)
    }

    @Test func eraseFailsTheSameWayWithTheRestErased() throws {
        let fixture = try Fixture()
        var fetch: FileLock? = try fixture.holdFetchLock()
        let path = try #require(fetch?.path)
        let failure = try #require(throws: HelperError.self) { try CredentialHelper(fixture.context).erase(Self.host) }
        #expect(failure.code == .failed)
        #expect(failure.message.contains("cannot be sure the credentials for \(Self.host) are gone: a token fetch for \(Self.host) "
                                      + "was still running after 30 s (it holds \(path))"))
        #expect(failure.underlying is RegistryLocks.Busy)
        #expect(try FileCredentialStore(directory: fixture.scratch.path + "/tokens").allRecords().isEmpty)
        withExtendedLifetime(fetch) {}
        fetch = nil
        #expect(throws: Never.self) { try CredentialHelper(fixture.context).erase(Self.host) }
    }
}
