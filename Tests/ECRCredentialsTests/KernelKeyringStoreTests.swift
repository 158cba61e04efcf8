// The kernel keyring tier and the two-tier keyring store, against an in-memory kernel.
// (Tests/e2e/test_kernel_keyring.py runs the same behaviour through the binary on the real kernel.)
import ECRCredentials
import Foundation
import Testing

@Suite struct KernelKeyringStoreTests {
    static let start = 1_800_000_000.0

    /// A store over `keys`; its generation file is in `keys.cacheDirectory`, or in `directory`
    /// (another namespace of the same user, whose kernel keyring is another one or none).
    static func store(_ keys: FakeKernelKeys, clock: ManualClock, scope: String = "0123456789abcdef", directory: String? = nil,
                      diagnostics: Diagnostics = Diagnostics(level: .quiet)) -> KernelKeyringStore {
        KernelKeyringStore(scope: scope, generationFile: .init(directory: directory ?? keys.cacheDirectory), keys: keys, clock: clock,
                           diagnostics: diagnostics, parentKeyring: FakeKernelKeys.userKeyring)
    }

    static func token(_ registry: String = "1.dkr.ecr.us-east-1.amazonaws.com", identity: String = "aa", secret: String = "t0k3n",
                      lifetime: Double = 12 * 3600) -> CredentialRecord {
        CredentialRecord(kind: .token, registry: registry, serverURL: registry, identity: identity, username: "AWS", secret: secret,
                         issuedAt: start, expiresAt: start + lifetime)
    }

    static func kernel(_ clock: ManualClock, quota: Int = 20_000, refusal: Int32? = nil) -> FakeKernelKeys {
        FakeKernelKeys(quota: quota, refusal: refusal, now: { clock.now().timeIntervalSince1970 })
    }

    @Test func aTokenRoundTripsRestrictedToTheUserAndExpiresWithItself() throws {
        let clock = ManualClock(Self.start)
        let keys = Self.kernel(clock)
        let store = Self.store(keys, clock: clock)
        let record = Self.token(secret: "line one\nline two: any bytes")
        try store.save(record)
        #expect(try store.record(kind: .token, registry: record.registry, identity: "aa") == record)
        #expect(try store.record(kind: .token, registry: record.registry, identity: "bb") == nil)
        let kept = try #require(keys.userKeys.first)
        #expect(kept.description == "docker-credential-ecr:1:0123456789abcdef:token:aa:1.dkr.ecr.us-east-1.amazonaws.com")
        #expect(kept.permissions == 0x003F_0000)  // the user's rights only: no possessor, group or other bits
        #expect(kept.expiresAt == Self.start + 12 * 3600)
        clock.advance(12 * 3600)
        #expect(try store.record(kind: .token, registry: record.registry, identity: "aa") == nil)
    }

    @Test func loginStateIsUnknownThenNoneThenStoredAndLivesAnHourAtMost() throws {
        let clock = ManualClock(Self.start)
        let store = Self.store(Self.kernel(clock), clock: clock)
        #expect(store.loginState(registry: "registry.example") == .unknown)
        try store.saveNoLogin(registry: "registry.example")
        #expect(store.loginState(registry: "registry.example") == .none)
        #expect(store.loginState(registry: "other.example") == .unknown)
        let login = CredentialRecord(kind: .login, registry: "registry.example", serverURL: "https://registry.example", identity: "",
                                     username: "me", secret: "pw", issuedAt: Self.start, expiresAt: nil)
        try store.save(login)
        #expect(store.loginState(registry: "registry.example") == .stored(login))
        clock.advance(3601)
        #expect(store.loginState(registry: "registry.example") == .unknown)  // asks the Secret Service again
    }

    @Test func scopesDoNotReadEachOtherButRemovalsReachEveryScope() throws {
        let clock = ManualClock(Self.start)
        let keys = Self.kernel(clock)
        let first = Self.store(keys, clock: clock, scope: "1111111111111111")
        try first.save(Self.token())
        let other = Self.store(keys, clock: clock, scope: "2222222222222222")
        #expect(try other.record(kind: .token, registry: Self.token().registry, identity: "aa") == nil)
        #expect(try other.allRecords().isEmpty)
        #expect(keys.userKeys.count == 1)
        #expect(try other.removeAll(registry: Self.token().registry) == 0)  // counts its own scope only
        #expect(keys.userKeys.isEmpty)
        try first.save(Self.token())
        try other.remove(kind: .token, registry: Self.token().registry, identity: "aa")
        #expect(try first.record(kind: .token, registry: Self.token().registry, identity: "aa") == nil)
        try first.save(Self.token())
        try first.saveNoLogin(registry: "r.example")
        try other.removeEverything(of: [.token])
        #expect(keys.userKeys.map(\.description) == ["docker-credential-ecr:1:1111111111111111:login:-:r.example"])
    }

    /// One bus however it is named: the scope follows the socket, not the spelling.
    @Test func theScopeNamesTheBusNotItsSpelling() throws {
        let scratch = try TemporaryDirectory()
        let directory = scratch.path
        #expect(FileManager.default.createFile(atPath: directory + "/bus", contents: Data()))
        let spellings = [
            ["DBUS_SESSION_BUS_ADDRESS": "unix:path=\(directory)/bus,guid=0123"],
            ["DBUS_SESSION_BUS_ADDRESS": "unix:guid=4567,path=\(directory)//bus"],
            ["DBUS_SESSION_BUS_ADDRESS": "unix:path=\(directory)/./bus;unix:path=/elsewhere"],
            ["DBUS_SESSION_BUS_ADDRESS": "unix:path=\(directory.replacingOccurrences(of: "/", with: "%2f"))/bus"],
            ["XDG_RUNTIME_DIR": directory],
            ["XDG_RUNTIME_DIR": directory + "/", "HOME": "/another/home"],
        ]
        let scopes = Set(spellings.map { KernelKeyringStore.scope(environment: Environment($0)) })
        #expect(scopes.count == 1)
        #expect(KernelKeyringStore.busIdentity(Environment(spellings[0])).hasSuffix("/bus"))
        #expect(!scopes.contains(KernelKeyringStore.scope(environment: Environment(["DBUS_SESSION_BUS_ADDRESS": "unix:path=/run/user/1/bus"]))))
        #expect(KernelKeyringStore.scope(environment: Environment(["DBUS_SESSION_BUS_ADDRESS": "unix:abstract=/tmp/a,guid=1"]))
            == KernelKeyringStore.scope(environment: Environment(["DBUS_SESSION_BUS_ADDRESS": "unix:abstract=/tmp/a,guid=2"])))
    }

    /// Another user's key planted in a keyring of this name with wider permissions is never
    /// served; such a keyring is narrowed, or not used when it cannot be.
    @Test func anotherUsersKeyIsNotServedAndAWideKeyringIsNarrowed() throws {
        let clock = ManualClock(Self.start)
        let keys = Self.kernel(clock)
        let keyring = keys.plant(type: "keyring", description: "docker-credential-ecr", payload: [], in: FakeKernelKeys.userKeyring,
                                 permissions: 0x3F3F_3F3F)
        let store = Self.store(keys, clock: clock)
        let generation = try KernelKeyringStore.GenerationFile(directory: keys.cacheDirectory).advance().generation
        let login = "docker-credential-ecr 2\n\(generation)\nlogin\nr.example\n\nr.example\nattacker\n1800000000\nnever\nplanted"
        keys.plant(description: "docker-credential-ecr:1:0123456789abcdef:login:-:r.example", payload: Array(login.utf8), in: keyring,
                   owner: getuid() + 1)
        #expect(store.loginState(registry: "r.example") == .unknown)  // the first lookup narrows the keyring
        #expect(keys.permissions(of: keyring) == 0x003F_0000)

        let locked = Self.kernel(clock)
        let wide = locked.plant(type: "keyring", description: "docker-credential-ecr", payload: [], in: FakeKernelKeys.userKeyring,
                                permissions: 0x3F3F_3F3F)
        locked.lockedPermissions = [wide]
        let refusing = Self.store(locked, clock: clock)
        try refusing.save(Self.token())
        #expect(locked.userKeys.isEmpty && refusing.refusal != nil)
    }

    /// A key of the user's whose permissions are wider than the user's own rights (made by an
    /// earlier version with possessor rights, or widened since) may have been read or rewritten
    /// by whoever possesses it: it is never served, by a lookup or a listing, and it goes away.
    @Test(arguments: [UInt32(0x3F3F_0000), 0x003F_0001, 0x003F_0800, 0x0100_0000])
    func aKeyOpenToOthersIsNeverServedAndIsRemoved(permissions: UInt32) throws {
        let clock = ManualClock(Self.start)
        let keys = Self.kernel(clock)
        let store = Self.store(keys, clock: clock)
        try store.save(Self.token())
        let name = "docker-credential-ecr:1:0123456789abcdef:token:aa:1.dkr.ecr.us-east-1.amazonaws.com"
        let keyring = try #require(keys.serial(of: KernelKeyringStore.keyringName))
        let forged = Self.token(secret: "forged")
        let generation = try #require(store.currentGeneration())
        let payload = Array("docker-credential-ecr 2\n\(generation)\ntoken\n\(forged.registry)\naa\n\(forged.serverURL)\nAWS\n1800000000\n1800043200\nforged".utf8)
        try keys.invalidate(try #require(keys.serial(of: name)))
        keys.plant(description: name, payload: payload, in: keyring, permissions: permissions)
        #expect(try store.record(kind: .token, registry: forged.registry, identity: "aa") == nil)
        #expect(keys.serial(of: name) == nil)
        keys.plant(description: name, payload: payload, in: keyring, permissions: permissions)
        #expect(try store.allRecords().isEmpty)
        #expect(keys.serial(of: name) == nil)
        try store.save(Self.token())
        #expect(try store.record(kind: .token, registry: forged.registry, identity: "aa")?.secret == "t0k3n")
    }

    /// A key whose payload is not what its description says (planted, corrupted, another
    /// version, no generation) is ignored, never served. `GEN` stands for the current generation.
    @Test(arguments: [
        "", "garbage", "docker-credential-ecr 2\nGEN\ntoken\n",
        "docker-credential-ecr 2\nGEN\ntoken\nother.example\naa\nother.example\nAWS\n1800000000\n1800043200\nsecret",
        "docker-credential-ecr 2\nGEN\ntoken\n1.dkr.ecr.us-east-1.amazonaws.com\nbb\nx\nAWS\n1800000000\n1800043200\nsecret",
        "docker-credential-ecr 2\nGEN\nlogin\n1.dkr.ecr.us-east-1.amazonaws.com\naa\nx\nAWS\n1800000000\n1800043200\nsecret",
        "docker-credential-ecr 2\nGEN\ntoken\n1.dkr.ecr.us-east-1.amazonaws.com\naa\nx\nAWS\nnan\n1800043200\nsecret",
        "docker-credential-ecr 2\nGEN\ntoken\n1.dkr.ecr.us-east-1.amazonaws.com\naa\nx\nAWS\n1800000000\n1e400\nsecret",
        "docker-credential-ecr 2\nGEN\ntoken\n1.dkr.ecr.us-east-1.amazonaws.com\naa\nx\nAWS\n1800000000\n",
        "docker-credential-ecr 2\nGEN\nnone\n1.dkr.ecr.us-east-1.amazonaws.com\n",
        "docker-credential-ecr 2\nGEN \ntoken\n1.dkr.ecr.us-east-1.amazonaws.com\naa\nx\nAWS\n1800000000\n1800043200\nsecret",
        "docker-credential-ecr 2\n\ntoken\n1.dkr.ecr.us-east-1.amazonaws.com\naa\nx\nAWS\n1800000000\n1800043200\nsecret",
        // An earlier version's payload: no generation vouches for it.
        "docker-credential-ecr 1\ntoken\n1.dkr.ecr.us-east-1.amazonaws.com\naa\nx\nAWS\n1800000000\n1800043200\nsecret",
    ])
    func aKeyThatIsNotWhatItsNameSaysIsIgnored(payload: String) throws {
        let clock = ManualClock(Self.start)
        let keys = Self.kernel(clock)
        let store = Self.store(keys, clock: clock)
        let record = Self.token()
        try store.save(record)
        let generation = try #require(store.currentGeneration())
        keys.overwrite(description: keys.userKeys[0].description, payload: Array(payload.replacingOccurrences(of: "GEN", with: generation.text).utf8))
        #expect(try Self.store(keys, clock: clock).record(kind: .token, registry: record.registry, identity: "aa") == nil)
    }

    /// What cannot be kept removes what it replaces: the note "no login" must not outlive a
    /// login stored since.
    @Test(arguments: [("me\nyou", "pw"), ("me", String(repeating: "x", count: 40_000)), ("me", String(repeating: "fits in a key, not in the quota; ", count: 5))])
    func aLoginThatCannotBeKeptRemovesTheOlderEntry(username: String, secret: String) throws {
        let clock = ManualClock(Self.start)
        let keys = Self.kernel(clock, quota: 200)
        let store = Self.store(keys, clock: clock)
        try store.saveNoLogin(registry: "r.example")
        #expect(store.loginState(registry: "r.example") == .none)
        let login = CredentialRecord(kind: .login, registry: "r.example", serverURL: "r.example", identity: "", username: username,
                                     secret: secret, issuedAt: Self.start, expiresAt: nil)
        try? store.save(login)
        #expect(store.loginState(registry: "r.example") == .unknown)
        #expect(keys.userKeys.isEmpty)
    }

    /// Docker's default seccomp profile answers EPERM, a kernel without keys ENOSYS: the first
    /// refused call turns the tier off for the process, quietly.
    @Test(arguments: [EPERM, ENOSYS, EACCES])
    func refusedCallsTurnTheTierOffAfterTheFirst(code: Int32) throws {
        let clock = ManualClock(Self.start)
        let keys = Self.kernel(clock, refusal: code)
        let store = Self.store(keys, clock: clock)
        #expect(try store.record(kind: .token, registry: "r", identity: "aa") == nil)
        #expect(store.refusal?.code == code)
        #expect(store.loginState(registry: "r") == .unknown)
        try store.save(Self.token())
        try store.saveNoLogin(registry: "r")
        #expect(try store.removeAll(registry: "r") == 0)
        #expect(try store.allRecords().isEmpty)
        #expect(keys.calls == 1)
    }

    /// A non-root user has 20,000 bytes by default: this tool's entries that expire soonest
    /// make room (shrunk first, since an invalidated key gives its quota back only later); a
    /// record that cannot fit even then is refused with the kernel's error.
    @Test func aFullQuotaDropsTheEntriesThatExpireSoonest() throws {
        let clock = ManualClock(Self.start)
        let keys = Self.kernel(clock, quota: 3 * 1_300)
        let store = KernelKeyringStore(scope: "0123456789abcdef", generationFile: .init(directory: keys.cacheDirectory), keys: keys,
                                       clock: clock, diagnostics: Diagnostics(level: .quiet),
                                       parentKeyring: FakeKernelKeys.userKeyring, quota: { nil })
        let secret = String(repeating: "x", count: 1_000)
        for (index, lifetime) in [3.0, 1.0, 2.0].enumerated() {
            try store.save(Self.token("\(index).dkr.ecr.us-east-1.amazonaws.com", secret: secret, lifetime: lifetime * 3600))
        }
        #expect(keys.userKeys.count == 3)
        try store.save(Self.token("3.dkr.ecr.us-east-1.amazonaws.com", secret: secret))
        let registries = Set(try store.allRecords().map(\.registry))
        #expect(registries == ["0.dkr.ecr.us-east-1.amazonaws.com", "2.dkr.ecr.us-east-1.amazonaws.com", "3.dkr.ecr.us-east-1.amazonaws.com"])
        #expect(throws: KernelKeyFailure.self) {
            try store.save(Self.token("4.dkr.ecr.us-east-1.amazonaws.com", secret: String(repeating: "y", count: 5_000)))
        }
    }

    /// When other programs' keys fill the quota, dropping this tool's entries would not make
    /// room: none is dropped.
    @Test func aQuotaFullOfOtherKeysDropsNothing() throws {
        let clock = ManualClock(Self.start)
        let keys = Self.kernel(clock, quota: 20_000)
        let store = KernelKeyringStore(scope: "0123456789abcdef", generationFile: .init(directory: keys.cacheDirectory), keys: keys,
                                       clock: clock, diagnostics: Diagnostics(level: .quiet),
                                       parentKeyring: FakeKernelKeys.userKeyring,
                                       quota: { .init(keys: 10, maximumKeys: 200, bytes: 19_950, maximumBytes: 20_000) })
        try store.save(Self.token())
        keys.plant(description: "junk", payload: Array(repeating: 0, count: 19_600), in: FakeKernelKeys.userKeyring)
        #expect(throws: KernelKeyFailure.self) {
            try store.save(Self.token("2.dkr.ecr.us-east-1.amazonaws.com", secret: String(repeating: "x", count: 1_000)))
        }
        #expect(try store.allRecords().map(\.registry) == [Self.token().registry])
    }

    /// Under a full quota a registry's token and its login note go together (a token without its
    /// note is no fast hit), those whose tokens expire soonest first; the registry being written
    /// keeps its other entries.
    @Test func evictionDropsWholeRegistriesSoonestFirst() throws {
        let clock = ManualClock(Self.start)
        let keys = Self.kernel(clock, quota: 3 * 1_500)
        let store = KernelKeyringStore(scope: "0123456789abcdef", generationFile: .init(directory: keys.cacheDirectory), keys: keys,
                                       clock: clock, diagnostics: Diagnostics(level: .quiet),
                                       parentKeyring: FakeKernelKeys.userKeyring, quota: { nil })
        let secret = String(repeating: "x", count: 1_000)
        for (index, lifetime) in [2.0, 1.0, 3.0].enumerated() {
            let registry = "\(index).dkr.ecr.us-east-1.amazonaws.com"
            try store.saveNoLogin(registry: registry)
            try store.save(Self.token(registry, secret: secret, lifetime: lifetime * 3600))
        }
        try store.saveNoLogin(registry: "3.dkr.ecr.us-east-1.amazonaws.com")
        try store.save(Self.token("3.dkr.ecr.us-east-1.amazonaws.com", secret: secret))
        #expect(store.loginState(registry: "1.dkr.ecr.us-east-1.amazonaws.com") == .unknown)
        #expect(try store.record(kind: .token, registry: "1.dkr.ecr.us-east-1.amazonaws.com", identity: "aa") == nil)
        for kept in ["0", "2", "3"] {
            #expect(store.loginState(registry: "\(kept).dkr.ecr.us-east-1.amazonaws.com") == .none)
            #expect(try store.record(kind: .token, registry: "\(kept).dkr.ecr.us-east-1.amazonaws.com", identity: "aa") != nil)
        }
    }

    @Test func removalsTakeEveryIdentityOrAllButOne() throws {
        let clock = ManualClock(Self.start)
        let store = Self.store(Self.kernel(clock), clock: clock)
        let registry = Self.token().registry
        for identity in ["aa", "bb", "cc"] { try store.save(Self.token(identity: identity)) }
        try store.save(Self.token("other.dkr.ecr.us-east-1.amazonaws.com"))
        try store.saveNoLogin(registry: registry)
        #expect(try store.removeTokens(registry: registry, except: "bb") == 2)
        #expect(try store.allRecords().map(\.identity).sorted() == ["aa", "bb"])
        #expect(try store.removeAll(registry: registry) == 1)
        #expect(store.loginState(registry: registry) == .unknown)
        // The generation is the user's: a removal retires every copy, those of other registries too.
        #expect(try store.allRecords().isEmpty)
    }

    // MARK: the generation

    /// Another namespace of the user: the same cache directory, and a kernel keyring that refuses
    /// the calls (a seccomp filter, EACCES in a user namespace) or is another one (newer kernels
    /// give each user namespace its own user keyring).
    static func sandbox(_ keys: FakeKernelKeys, clock: ManualClock, ownKeyring: Bool) -> (KernelKeyringStore, FakeKernelKeys) {
        let inside = ownKeyring ? Self.kernel(clock) : Self.kernel(clock, refusal: EACCES)
        return (Self.store(inside, clock: clock, directory: keys.cacheDirectory), inside)
    }

    /// A removal where this keyring cannot be reached still retires every copy kept here: the
    /// tokens, the login, the note that there was none, of every registry; they are invalidated
    /// on sight, and nothing is said on stderr.
    @Test(arguments: [false, true])
    func aRemovalInAnotherNamespaceRetiresEveryCopyHere(ownKeyring: Bool) throws {
        let clock = ManualClock(Self.start)
        let keys = Self.kernel(clock)
        let outside = Self.store(keys, clock: clock)
        let login = CredentialRecord(kind: .login, registry: "r.example", serverURL: "r.example", identity: "", username: "me",
                                     secret: "pw", issuedAt: Self.start, expiresAt: nil)
        try outside.save(Self.token())
        try outside.saveNoLogin(registry: Self.token().registry)
        try outside.save(login)
        #expect(keys.userKeys.count == 3)
        for removal in 0..<3 {
            let messages = CredentialHelperTests.Messages()
            let inside = Self.store(ownKeyring ? Self.kernel(clock) : Self.kernel(clock, refusal: EACCES), clock: clock,
                                    directory: keys.cacheDirectory, diagnostics: Diagnostics(level: .warning, sink: { messages.append($0) }))
            switch removal {
            case 0: try inside.removeAll(registry: "r.example")
            case 1: try inside.remove(kind: .token, registry: Self.token().registry, identity: "aa")
            default: try inside.removeEverything(of: [.login])
            }
            #expect(messages.text == "")
            let fresh = Self.store(keys, clock: clock)
            #expect(try fresh.record(kind: .token, registry: Self.token().registry, identity: "aa") == nil)
            #expect(fresh.loginState(registry: Self.token().registry) == .unknown)
            #expect(fresh.loginState(registry: "r.example") == .unknown)
            #expect(try fresh.allRecords().isEmpty)
            #expect(keys.userKeys.isEmpty)  // invalidated on sight
            // Copied again (the Secret Service still holds them, say), they answer again.
            try fresh.save(Self.token())
            try fresh.saveNoLogin(registry: Self.token().registry)
            try fresh.save(login)
            #expect(Self.store(keys, clock: clock).loginState(registry: "r.example") == .stored(login))
        }
    }

    /// Both directions: a login stored in the other namespace is not shadowed here by the note
    /// that there was none, and a change made here retires the other namespace's own copies.
    @Test(arguments: [false, true])
    func aLoginStoredInAnotherNamespaceIsNotShadowedHere(ownKeyring: Bool) throws {
        let clock = ManualClock(Self.start)
        let keys = Self.kernel(clock)
        let durable = MemoryCredentialStore(name: "secret service")
        let outside = TieredKeyringStore(fast: Self.store(keys, clock: clock), durable: durable, diagnostics: Diagnostics(level: .quiet))
        #expect(try outside.record(kind: .login, registry: "r.example", identity: "") == nil)
        #expect(Self.store(keys, clock: clock).loginState(registry: "r.example") == .none)
        let (fast, insideKeys) = Self.sandbox(keys, clock: clock, ownKeyring: ownKeyring)
        let inside = TieredKeyringStore(fast: fast, durable: durable, diagnostics: Diagnostics(level: .quiet))
        let login = CredentialRecord(kind: .login, registry: "r.example", serverURL: "r.example", identity: "", username: "me",
                                     secret: "stored-inside", issuedAt: Self.start, expiresAt: nil)
        try inside.save(login)
        #expect(Self.store(keys, clock: clock).loginState(registry: "r.example") == .unknown)
        #expect(try TieredKeyringStore(fast: Self.store(keys, clock: clock), durable: durable, diagnostics: Diagnostics(level: .quiet))
            .record(kind: .login, registry: "r.example", identity: "") == login)
        // And back: erased outside, the copy the other namespace kept (in its own keyring) is retired.
        #expect(try inside.record(kind: .login, registry: "r.example", identity: "") == login)
        try TieredKeyringStore(fast: Self.store(keys, clock: clock), durable: durable, diagnostics: Diagnostics(level: .quiet))
            .removeAll(registry: "r.example")
        #expect(Self.store(insideKeys, clock: clock, directory: keys.cacheDirectory).loginState(registry: "r.example") == .unknown)
        #expect(try TieredKeyringStore(fast: Self.store(insideKeys, clock: clock, directory: keys.cacheDirectory), durable: durable,
                                       diagnostics: Diagnostics(level: .quiet)).record(kind: .login, registry: "r.example", identity: "") == nil)
    }

    /// A generation file that is missing, torn, planted through a link or not a file vouches for
    /// no entry: every copy is ignored (nothing is lost: the durable store still has it). A
    /// removal writes nothing then; the next copy writes a fresh generation where it can.
    @Test(arguments: ["missing", "torn", "garbage", "link", "directory"])
    func aMissingOrUnusableGenerationFileVouchesForNothing(damage: String) throws {
        let clock = ManualClock(Self.start)
        let keys = Self.kernel(clock)
        let store = Self.store(keys, clock: clock)
        try store.save(Self.token())
        let file = store.generationFile
        let valid = try #require(FileManager.default.contents(atPath: file.path))
        try FileManager.default.removeItem(atPath: file.path)
        switch damage {
        case "torn": #expect(FileManager.default.createFile(atPath: file.path, contents: valid.prefix(40)))
        case "garbage": #expect(FileManager.default.createFile(atPath: file.path, contents: Data(valid.reversed())))
        case "link":
            #expect(FileManager.default.createFile(atPath: file.path + ".elsewhere", contents: valid))
            try FileManager.default.createSymbolicLink(atPath: file.path, withDestinationPath: file.path + ".elsewhere")
        case "directory": try FileManager.default.createDirectory(atPath: file.path, withIntermediateDirectories: false)
        default: break
        }
        let fresh = Self.store(keys, clock: clock)
        #expect(try fresh.record(kind: .token, registry: Self.token().registry, identity: "aa") == nil)
        #expect(try fresh.allRecords().isEmpty)
        #expect((fresh.generationProblem == nil) == (damage == "missing"))
        let before = try? Data(contentsOf: URL(fileURLWithPath: file.path))
        try Self.store(keys, clock: clock).removeAll(registry: "other.example")
        #expect((try? Data(contentsOf: URL(fileURLWithPath: file.path))) == before)
        try fresh.save(Self.token(), generation: fresh.generationBeforeWrite())
        let answer = try Self.store(keys, clock: clock).record(kind: .token, registry: Self.token().registry, identity: "aa")
        #expect((answer == Self.token()) == (damage != "directory"))
    }

    /// Writers replace the file whole, by rename: however many write at once, a reader sees one
    /// generation or another, never a torn file, and no two writes give the same generation.
    @Test func concurrentWritersNeverTearTheFile() async throws {
        let keys = Self.kernel(ManualClock(Self.start))
        let file = KernelKeyringStore.GenerationFile(directory: keys.cacheDirectory)
        _ = try file.advance()
        let written = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<4 {
                group.addTask { try (0..<40).map { _ in try file.advance().generation.text } }
            }
            group.addTask {
                for _ in 0..<400 { _ = try #require(try file.read()) }
                return []
            }
            return try await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(written.count == 160 && Set(written).count == 160)
        #expect(try file.read().map { written.contains($0.text) } == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: keys.cacheDirectory).sorted() == ["kernel-generation", "kernel-generation.lock"])
    }

    /// Under the lock, a writer learns whether the file still held what it read before its
    /// durable write: only then may it keep a copy under the new generation.
    @Test func anAdvanceSaysWhetherItFollowedTheGenerationItExpected() throws {
        let keys = Self.kernel(ManualClock(Self.start))
        let file = KernelKeyringStore.GenerationFile(directory: keys.cacheDirectory)
        let first = try file.advance()
        #expect(!first.followed)  // nothing expected
        let second = try file.advance(expected: first.generation)
        #expect(second.followed && second.generation != first.generation)
        #expect(try !file.advance(expected: first.generation).followed)
        #expect(KernelKeyringStore.Generation(text: first.generation.text) == first.generation)
        for text in ["", String(repeating: "0", count: 31), String(repeating: "A", count: 32), String(repeating: "g", count: 32)] {
            #expect(KernelKeyringStore.Generation(text: text) == nil)
        }
    }
}

@Suite struct TieredKeyringStoreTests {
    static func tiers() -> (TieredKeyringStore, FakeKernelKeys, MemoryCredentialStore, ManualClock) {
        let clock = ManualClock(KernelKeyringStoreTests.start)
        let keys = KernelKeyringStoreTests.kernel(clock)
        let durable = MemoryCredentialStore(name: "secret service")
        let fast = KernelKeyringStoreTests.store(keys, clock: clock)
        return (TieredKeyringStore(fast: fast, durable: durable, diagnostics: Diagnostics(level: .quiet)), keys, durable, clock)
    }

    @Test func aSecretServiceHitIsCopiedAndAMissingLoginNoted() throws {
        let (tiers, keys, durable, _) = Self.tiers()
        let token = KernelKeyringStoreTests.token()
        try durable.save(token)
        #expect(try tiers.record(kind: .token, registry: token.registry, identity: "aa") == token)
        #expect(try tiers.record(kind: .login, registry: token.registry, identity: "") == nil)
        #expect(keys.userKeys.count == 2)
        durable.failing = true  // a kernel hit never asks the Secret Service
        #expect(try tiers.record(kind: .token, registry: token.registry, identity: "aa") == token)
        #expect(try tiers.record(kind: .login, registry: token.registry, identity: "") == nil)
    }

    /// Another process stores or erases while this one copies what the Secret Service said: the
    /// generation changed, so the copy is not kept.
    @Test func aCopyMadeWhileAnotherProcessErasesIsTakenBack() throws {
        let clock = ManualClock(KernelKeyringStoreTests.start)
        let keys = KernelKeyringStoreTests.kernel(clock)
        let login = CredentialRecord(kind: .login, registry: "r.example", serverURL: "r.example", identity: "", username: "me",
                                     secret: "old", issuedAt: KernelKeyringStoreTests.start, expiresAt: nil)
        let durable = InterleavingStore(login)
        let other = KernelKeyringStoreTests.store(keys, clock: clock)
        durable.duringRead = {
            // The other process: erase from the Secret Service, then from the kernel.
            durable.stored = nil
            _ = try? other.removeAll(registry: "r.example")
        }
        let tiers = TieredKeyringStore(fast: KernelKeyringStoreTests.store(keys, clock: clock), durable: durable,
                                       diagnostics: Diagnostics(level: .quiet))
        #expect(try tiers.record(kind: .login, registry: "r.example", identity: "") == login)  // what it read
        #expect(tiers.fast.loginState(registry: "r.example") == .unknown)  // but not kept
        durable.duringRead = nil
        #expect(try tiers.record(kind: .login, registry: "r.example", identity: "") == nil)
        #expect(tiers.fast.loginState(registry: "r.example") == .none)
    }

    /// The same, when the other process cannot reach the kernel keyring (a seccomp filter, a user
    /// namespace): the Secret Service answered before the change, but the copy carries the
    /// generation read before it asked, so it never answers.
    @Test func aCopyMadeWhileAProcessWithoutTheKernelErasesNeverAnswers() throws {
        let clock = ManualClock(KernelKeyringStoreTests.start)
        let keys = KernelKeyringStoreTests.kernel(clock)
        let login = CredentialRecord(kind: .login, registry: "r.example", serverURL: "r.example", identity: "", username: "me",
                                     secret: "old", issuedAt: KernelKeyringStoreTests.start, expiresAt: nil)
        let durable = InterleavingStore(login)
        let sandboxed = KernelKeyringStoreTests.store(KernelKeyringStoreTests.kernel(clock, refusal: EPERM), clock: clock,
                                                      directory: keys.cacheDirectory)
        durable.duringRead = {
            durable.stored = nil
            _ = try? sandboxed.removeAll(registry: "r.example")
        }
        let tiers = TieredKeyringStore(fast: KernelKeyringStoreTests.store(keys, clock: clock), durable: durable,
                                       diagnostics: Diagnostics(level: .quiet))
        #expect(try tiers.record(kind: .login, registry: "r.example", identity: "") == login)
        #expect(KernelKeyringStoreTests.store(keys, clock: clock).loginState(registry: "r.example") == .unknown)
        #expect(sandboxed.refusal != nil)
    }

    /// A new login replaces the old copies and is kept under the new generation, unless another
    /// process changed the generation between the Secret Service write and the kernel's.
    @Test func aNewLoginIsKeptUnlessAnotherChangeCameBetween() throws {
        let clock = ManualClock(KernelKeyringStoreTests.start)
        let keys = KernelKeyringStoreTests.kernel(clock)
        let durable = InterleavingStore(nil)
        let tiers = TieredKeyringStore(fast: KernelKeyringStoreTests.store(keys, clock: clock), durable: durable,
                                       diagnostics: Diagnostics(level: .quiet))
        #expect(try tiers.record(kind: .login, registry: "r.example", identity: "") == nil)  // notes "no login"
        let first = CredentialRecord(kind: .login, registry: "r.example", serverURL: "r.example", identity: "", username: "me",
                                     secret: "first", issuedAt: KernelKeyringStoreTests.start, expiresAt: nil)
        try tiers.save(first)
        #expect(KernelKeyringStoreTests.store(keys, clock: clock).loginState(registry: "r.example") == .stored(first))

        let second = CredentialRecord(kind: .login, registry: "r.example", serverURL: "r.example", identity: "", username: "me",
                                      secret: "second", issuedAt: KernelKeyringStoreTests.start + 1, expiresAt: nil)
        let file = KernelKeyringStore.GenerationFile(directory: keys.cacheDirectory)
        durable.duringWrite = { _ = try? file.advance() }  // another process's erase or logout, of another registry say
        try tiers.save(second)
        let fresh = KernelKeyringStoreTests.store(keys, clock: clock)
        #expect(fresh.loginState(registry: "r.example") == .unknown)  // neither the first login nor the second
        durable.duringWrite = nil
        #expect(try tiers.record(kind: .login, registry: "r.example", identity: "") == second)
        #expect(fresh.loginState(registry: "r.example") == .stored(second))
    }

    @Test func aSavedTokenReplacesOtherIdentitiesInBothTiers() throws {
        let (tiers, keys, durable, _) = Self.tiers()
        try tiers.save(KernelKeyringStoreTests.token(identity: "aa", secret: "old"))
        try tiers.save(KernelKeyringStoreTests.token(identity: "bb", secret: "new"))
        #expect(durable.records.map(\.identity) == ["bb"])
        #expect(keys.userKeys.count == 1 && keys.userKeys[0].description.contains(":token:bb:"))
    }

    @Test func theKernelNeverFailsASaveButAFailingSecretServiceDoes() throws {
        let clock = ManualClock(KernelKeyringStoreTests.start)
        let durable = MemoryCredentialStore()
        let fast = KernelKeyringStoreTests.store(KernelKeyringStoreTests.kernel(clock, quota: 10), clock: clock)
        let tiers = TieredKeyringStore(fast: fast, durable: durable, diagnostics: Diagnostics(level: .quiet))
        try tiers.save(KernelKeyringStoreTests.token())
        #expect(durable.records.count == 1)
        durable.failing = true
        #expect(throws: MemoryCredentialStore.Unreadable.self) { try tiers.save(KernelKeyringStoreTests.token(identity: "bb")) }
    }

    @Test func listingShowsWhatOnlyTheKernelStillHolds() throws {
        let (tiers, _, durable, _) = Self.tiers()
        try tiers.save(KernelKeyringStoreTests.token())
        _ = try durable.removeAll(registry: KernelKeyringStoreTests.token().registry)
        #expect(try tiers.allRecords() == [KernelKeyringStoreTests.token()])
        try tiers.remove(kind: .token, registry: KernelKeyringStoreTests.token().registry, identity: "aa")
        #expect(try tiers.allRecords().isEmpty)
    }
}

/// A durable store holding one login that runs `duringRead` (another process) while it is read,
/// and `duringWrite` right after it is written.
final class InterleavingStore: CredentialStore, @unchecked Sendable {
    let name = "interleaving"
    var stored: CredentialRecord?
    var duringRead: (() -> Void)?

    var duringWrite: (() -> Void)?

    init(_ stored: CredentialRecord?) { self.stored = stored }

    func record(kind: CredentialRecord.Kind, registry: String, identity: String) throws -> CredentialRecord? {
        let answer = stored.flatMap { $0.kind == kind && $0.registry == registry && $0.identity == identity ? $0 : nil }
        duringRead?()
        return answer
    }
    func save(_ record: CredentialRecord) throws {
        stored = record
        duringWrite?()
    }
    func remove(kind: CredentialRecord.Kind, registry: String, identity: String) throws { stored = nil }
    func removeAll(registry: String) throws -> Int { stored = nil; return 1 }
    func allRecords() throws -> [CredentialRecord] { stored.map { [$0] } ?? [] }
}

/// What a reader of any store takes for a token this tool could have written.
@Suite struct PlausibleRecordTests {
    static let now = 1_800_000_000.0

    static func token(issuedAt: Double = now, expiresAt: Double? = now + 43_200, secret: String = "t") -> CredentialRecord {
        CredentialRecord(kind: .token, registry: "r", serverURL: "r", identity: "i", username: "AWS", secret: secret,
                         issuedAt: issuedAt, expiresAt: expiresAt)
    }

    @Test(arguments: [
        (token(), true),
        (token(expiresAt: nil), false),  // a token always expires
        (token(issuedAt: now + 1_000_000, expiresAt: now + 5), false),  // expires before it was issued
        (token(expiresAt: now + 8 * 86_400), false),  // longer than any ECR token
        (token(secret: ""), false),
        (CredentialRecord(kind: .login, registry: "r", serverURL: "r", identity: "", username: "u", secret: "s",
                          issuedAt: now, expiresAt: nil), true),  // a login may have no expiry
        (CredentialRecord(kind: .login, registry: "r", serverURL: "r", identity: "", username: "u", secret: "",
                          issuedAt: now, expiresAt: nil), false),  // but not an empty secret: `store` refuses one
    ])
    func onlyWhatThisToolCouldHaveWrittenIsATokenRecord(record: CredentialRecord, plausible: Bool) {
        #expect(record.isPlausible == plausible)
    }
}
