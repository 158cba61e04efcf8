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
                      everyBackend: Bool = false) throws -> (Shape, opened: Int) {
        let scratch = try TemporaryDirectory()
        let configuration = HelperConfiguration(tokens: TokenSettings(cacheBackend: backend, tokenDirectory: scratch.path + "/t"),
                                                loginDirectory: scratch.path + "/l")
        let opened = Mutex(0)
        let stores = CredentialStores.select(configuration, environment: Environment(), diagnostics: Diagnostics(level: .quiet),
                                             everyBackend: everyBackend, sessionBus: { _ in bus },
                                             openKeyring: { _ in
                                                 opened.withLock { $0 += 1 }
                                                 if available { return MemoryCredentialStore(name: "keyring") }
                                                 throw Locked()
                                             })
        func label(_ store: any CredentialStore) -> String {
            guard let files = store as? FileCredentialStore else { return store.name }
            return files.directory.hasSuffix("/t") ? "token-files" : "login-files"
        }
        let shape = Shape(tokens: stores.tokens.store.map(label), superseded: stores.tokens.superseded.map(label),
                          loginTarget: stores.loginTarget.map(label), loginSources: stores.loginSources.map(label),
                          everything: stores.everything.map(label), problem: stores.keyringProblem != nil)
        return (shape, opened.withLock { $0 })
    }

    static let all = ["keyring", "token-files", "login-files"]
    static let files = ["token-files", "login-files"]

    @Test(arguments: [
        (TokenSettings.CacheBackend.auto, true,
         Shape(tokens: "keyring", superseded: ["token-files"], loginTarget: "keyring", loginSources: ["keyring", "login-files"], everything: all, problem: false)),
        (.auto, false,
         Shape(tokens: "token-files", superseded: [], loginTarget: "login-files", loginSources: ["login-files"], everything: files, problem: true)),
        (.keyring, true,
         Shape(tokens: "keyring", superseded: ["token-files"], loginTarget: "keyring", loginSources: ["keyring", "login-files"], everything: all, problem: false)),
        (.keyring, false,
         Shape(tokens: nil, superseded: [], loginTarget: nil, loginSources: ["login-files"], everything: files, problem: true)),
        (.none, true,
         Shape(tokens: nil, superseded: [], loginTarget: "keyring", loginSources: ["keyring", "login-files"], everything: all, problem: false)),
        (.none, false,
         Shape(tokens: nil, superseded: [], loginTarget: "login-files", loginSources: ["login-files"], everything: files, problem: true)),
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
}
