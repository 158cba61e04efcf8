// A Secret Service that answers but refuses (locked, no default alias, confirmations): what erase
// and store make of it, from the registries its item attributes show.
import ECRCredentials
import Foundation
import Testing

@Suite struct KeyringRefusalTests {
    typealias Unavailable = KeyringCredentialStore.Unavailable

    @Test func heldRegistriesDecideWhatMayBeHeld() {
        let locked = Unavailable(refusal: "the default collection is locked", heldRegistries: ["held.example"])
        #expect(locked.mayHoldEntries && locked.refused)
        #expect(locked.mayHold(registry: "held.example"))
        #expect(!locked.mayHold(registry: "never.example"))
        let empty = Unavailable(refusal: "the default collection is locked", heldRegistries: [])
        #expect(!empty.mayHoldEntries && !empty.mayHold(registry: "held.example"))
        // Unknown (the search failed): anything may be there.
        let unknown = Unavailable(refusal: "the default collection is locked", heldRegistries: nil)
        #expect(unknown.mayHold(registry: "never.example"))
        let notAnswering = Unavailable(reason: "the Secret Service did not answer within 1000 ms", mayHoldEntries: true)
        #expect(notAnswering.mayHold(registry: "never.example") && !notAnswering.refused)
        #expect(!Unavailable(reason: "no Secret Service is running on the session bus").mayHold(registry: "held.example"))
    }

    @Test func aHungServiceIsRetriedOnceItAnswersAndABrokenOneHoldsNothing() {
        let hung = Unavailable(notAnswering: "the Secret Service did not answer within 1000 ms")
        #expect(hung.refused && hung.mayHold(registry: "any.example"))
        #expect(hung.retryCondition == "the Secret Service answers again")
        let locked = Unavailable(refusal: "the default collection is locked", heldRegistries: nil)
        #expect(locked.retryCondition == "the keyring is unlocked and answering")
        let broken = Unavailable(broken: "the program that owns org.freedesktop.secrets is not a working Secret Service")
        #expect(broken.refused && broken.broken && !broken.mayHold(registry: "any.example"))
    }

    @Test func keyringModeNamesTheSetting() {
        var locked = Unavailable(refusal: "the default collection is locked", heldRegistries: [])
        #expect(locked.description == "the keyring is not available: the default collection is locked")
        locked.requiredBy = KeyringCredentialStore.keyringModeSetting
        #expect(locked.description.contains("DOCKER_CREDENTIAL_ECR_CACHE") && locked.description.contains("[cache]"))
        let late = KeyringCredentialStore.NotStored(what: "registry.example's login", cause: "the keyring is not available: x",
                                                    mayAppearLater: true, requiredBy: KeyringCredentialStore.keyringModeSetting)
        #expect(late.description.contains("may still appear") && late.description.contains("DOCKER_CREDENTIAL_ECR_CACHE"))
        #expect(!KeyringCredentialStore.noDefaultAlias.contains("kept in the private files"))
    }

    /// A helper whose keyring is refused with `problem`, everything else in files under `scratch`.
    static func helper(_ scratch: TemporaryDirectory, problem: Unavailable, messages: CredentialHelperTests.Messages) -> CredentialHelper {
        let diagnostics = Diagnostics(level: .warning, sink: { messages.append($0) })
        let configuration = HelperConfiguration(tokens: TokenSettings(cacheBackend: .auto, tokenDirectory: scratch.path + "/tokens"),
                                                loginDirectory: scratch.path + "/logins")
        let tokens = FileCredentialStore(directory: scratch.path + "/tokens", diagnostics: diagnostics)
        let logins = FileCredentialStore(directory: scratch.path + "/logins", diagnostics: diagnostics)
        let stores = CredentialStores(tokens: TokenCache(store: tokens, problem: problem), loginTarget: logins, loginSources: [logins],
                                      everything: [tokens, logins])
        return CredentialHelper(configuration: configuration, environment: Environment(["HOME": scratch.path]),
                                transport: MockTransport([]), diagnostics: diagnostics, stores: stores)
    }

    @Test func eraseSucceedsWhereTheLockedKeyringHoldsNothingForTheHost() throws {
        let scratch = try TemporaryDirectory()
        let messages = CredentialHelperTests.Messages()
        let helper = Self.helper(scratch, problem: Unavailable(refusal: "the default collection is locked", heldRegistries: ["held.example"]),
                                 messages: messages)
        try helper.erase("never.example")
        #expect(throws: HelperError.self) { try helper.erase("https://held.example") }
    }

    @Test func autoStoreIntoTheFileSaysWhyOnce() throws {
        let scratch = try TemporaryDirectory()
        let messages = CredentialHelperTests.Messages()
        let helper = Self.helper(scratch, problem: Unavailable(refusal: "the default collection is locked", heldRegistries: []),
                                 messages: messages)
        try helper.store(Array(#"{"ServerURL":"registry.example","Username":"me","Secret":"pw"}"#.utf8))
        #expect(messages.text == "docker-credential-ecr: registry.example: kept in the private file, not in the keyring: the default collection is locked\n")
        #expect(try helper.get("registry.example").secret == "pw")
    }
}
