// Which stores each backend setting chooses, with the keyring present, absent or not even looked for.
import ECRCredentials
import Foundation
import Synchronization
import Testing

@Suite struct CredentialStoresTests {
    struct Locked: Error, CustomStringConvertible {
        var description: String { "the keyring is not available: the default collection is locked" }
    }

    /// What a selection looks like, by store names: tokens, superseded, login target, sources, everything.
    struct Shape: Equatable, CustomStringConvertible {
        var tokens: String?
        var superseded: [String]
        var loginTarget: String?
        var loginSources: [String]
        var everything: [String]
        var problem: Bool

        var description: String {
            "tokens=\(tokens ?? "-") superseded=\(superseded) target=\(loginTarget ?? "-") sources=\(loginSources) all=\(everything) problem=\(problem)"
        }
    }

    static func shape(_ backend: TokenSettings.CacheBackend, keyring available: Bool, bus: Bool = true,
                      everyBackend: Bool = false, kernelTier: Bool = true) throws -> (Shape, opened: Int) {
        let scratch = try TemporaryDirectory()
        var settings = TokenSettings(cacheBackend: backend, tokenDirectory: scratch.path + "/t")
        settings.kernelKeyring = kernelTier
        let configuration = HelperConfiguration(tokens: settings, loginDirectory: scratch.path + "/l")
        let opened = Mutex(0)
        let stores = CredentialStores.select(configuration, environment: Environment(), diagnostics: Diagnostics(level: .quiet),
                                             everyBackend: everyBackend, sessionBus: { _ in bus },
                                             openKeyring: { _ in
                                                 opened.withLock { $0 += 1 }
                                                 if available { return MemoryCredentialStore(name: "keyring") }
                                                 throw Locked()
                                             })
        func label(_ store: any CredentialStore) -> String {
            if store is TieredKeyringStore { return "kernel+keyring" }
            guard let files = store as? FileCredentialStore else { return store.name }
            return files.directory.hasSuffix("/t") ? "token-files" : "login-files"
        }
        let shape = Shape(tokens: stores.tokens.store.map(label), superseded: stores.tokens.superseded.map(label),
                          loginTarget: stores.loginTarget.map(label), loginSources: stores.loginSources.map(label),
                          everything: stores.everything.map(label), problem: stores.keyringProblem != nil)
        return (shape, opened.withLock { $0 })
    }

    static let all = ["kernel+keyring", "token-files", "login-files"]
    static let files = ["token-files", "login-files"]
    /// The Secret Service cannot be used: the kernel tier is still cleared by erase and logout.
    static let kernelAndFiles = ["kernel keyring", "token-files", "login-files"]

    @Test(arguments: [
        (TokenSettings.CacheBackend.auto, true,
         Shape(tokens: "kernel+keyring", superseded: ["token-files"], loginTarget: "kernel+keyring",
               loginSources: ["kernel+keyring", "login-files"], everything: all, problem: false)),
        (.auto, false,
         Shape(tokens: "token-files", superseded: [], loginTarget: "login-files", loginSources: ["login-files"], everything: kernelAndFiles, problem: true)),
        (.keyring, true,
         Shape(tokens: "kernel+keyring", superseded: ["token-files"], loginTarget: "kernel+keyring",
               loginSources: ["kernel+keyring", "login-files"], everything: all, problem: false)),
        (.keyring, false,
         Shape(tokens: nil, superseded: [], loginTarget: nil, loginSources: ["login-files"], everything: kernelAndFiles, problem: true)),
        (.none, true,
         Shape(tokens: nil, superseded: [], loginTarget: "kernel+keyring", loginSources: ["kernel+keyring", "login-files"], everything: all, problem: false)),
        (.none, false,
         Shape(tokens: nil, superseded: [], loginTarget: "login-files", loginSources: ["login-files"], everything: kernelAndFiles, problem: true)),
        (.file, true,
         Shape(tokens: "token-files", superseded: [], loginTarget: "login-files", loginSources: ["login-files"], everything: files, problem: false)),
    ])
    func eachBackendChoosesItsStores(backend: TokenSettings.CacheBackend, available: Bool, expected: Shape) throws {
        let (shape, opened) = try Self.shape(backend, keyring: available)
        #expect(shape == expected)
        #expect(opened == (backend == .file ? 0 : 1))
    }

    @Test func fileModeReachesTheKeyringOnlyForEraseAndListAndOnlyWithABus() throws {
        let (withBus, openedWithBus) = try Self.shape(.file, keyring: true, bus: true, everyBackend: true)
        #expect(openedWithBus == 1)
        #expect(withBus.everything == Self.all)
        #expect(withBus.tokens == "token-files")
        let (_, openedWithoutBus) = try Self.shape(.file, keyring: true, bus: false, everyBackend: true)
        #expect(openedWithoutBus == 0)
    }

    /// The kernel tier stands in front of a Secret Service: without a session bus, or turned off,
    /// there is none.
    @Test(arguments: [(false, true), (true, false)])
    func noKernelTierWithoutABusOrWhenTurnedOff(bus: Bool, kernelTier: Bool) throws {
        let (shape, _) = try Self.shape(.auto, keyring: true, bus: bus, kernelTier: kernelTier)
        #expect(shape.tokens == "keyring" && shape.loginTarget == "keyring")
        // Turned off, erase and logout still clear what an earlier run kept there.
        #expect(shape.everything == ["keyring"] + (bus ? Self.kernelAndFiles : Self.files))
        let (unavailable, _) = try Self.shape(.auto, keyring: false, bus: bus, kernelTier: kernelTier)
        #expect(unavailable.everything == (bus ? Self.kernelAndFiles : Self.files))
    }
}
