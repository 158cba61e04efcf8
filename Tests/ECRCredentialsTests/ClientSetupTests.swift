// configure's pieces: order-keeping JSON, registry lists, and the changes to a config document.
import ECRCredentials
import Foundation
import Testing

@Suite struct ClientSetupTests {
    static func document(_ text: String) throws -> JSONDocument {
        try JSONDocument(parsing: Array(text.utf8))
    }

    @Test func keysKeepTheirOrderAndNumbersTheirSpelling() throws {
        let parsed = try Self.document(#"{"z": 1, "a": [2.50, -3e2, true, null], "m": {"é": "caf\u00e9 \ud83d\ude80"}}"#)
        #expect(parsed.members?.map(\.key) == ["z", "a", "m"])
        #expect(parsed.text == "{\n\t\"z\": 1,\n\t\"a\": [\n\t\t2.50,\n\t\t-3e2,\n\t\ttrue,\n\t\tnull\n\t],\n\t\"m\": {\n\t\t\"é\": \"café 🚀\"\n\t}\n}\n")
        #expect(try JSONDocument(parsing: Array(parsed.text.utf8)) == parsed)
    }

    @Test func aRepeatedKeyIsRefusedWhereItStands() {
        // Docker merges repeated objects; rewriting the file would keep only one of them.
        #expect {
            _ = try Self.document("{\"auths\": {\"a.io\": {}},\n \"auths\": {\"b.io\": {}}}")
        } throws: { error in
            guard let error = error as? JSONDocument.ParseError else { return false }
            return error.line == 2 && error.column == 2 && error.reason == "the key \"auths\" appears twice in this object; keep one"
        }
    }

    @Test(arguments: [
        ("{", 1, 2, "expected a key in double quotes"),
        ("{\"a\" 1}", 1, 6, "expected \":\" after the key"),
        ("{\n  \"a\": 1\n  \"b\": 2\n}", 3, 3, "expected \",\" or \"}\""),
        ("[1,]", 1, 4, "unexpected character"),
        ("{\"a\": tru}", 1, 7, "expected true"),
        ("{} x", 1, 4, "unexpected text after the JSON value"),
        ("\"\u{01}\"", 1, 2, "control character in a string"),
        ("{\"é\": x}", 1, 7, "unexpected character"),
    ])
    func mistakesNameTheirLineAndColumn(text: String, line: Int, column: Int, reason: String) {
        #expect {
            _ = try Self.document(text)
        } throws: { error in
            guard let error = error as? JSONDocument.ParseError else { return false }
            return error.line == line && error.column == column && error.reason == reason
        }
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let text = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONDocument.ParseError.self) { try Self.document(text) }
    }

    @Test(arguments: [
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com"),
        ("https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/", "123456789012.dkr.ecr.us-east-1.amazonaws.com"),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:1.0", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
        ("public.ecr.aws", "public.ecr.aws"),
    ])
    func hostsAreNormalised(input: String, host: String) throws {
        #expect(try RegistryList.host(input) == host)
    }

    @Test(arguments: [
        ("123456789012.dkr.ecr.us-east-1", "did you mean 123456789012.dkr.ecr.us-east-1.amazonaws.com?"),
        ("api.ecr.cn-north-1.amazonaws.com.cn/123456789012", "did you mean 123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn?"),
        ("docker.io", "is not an ECR registry host"),
    ])
    func nearMissesGetTheNearestValidForm(input: String, hint: String) {
        #expect {
            _ = try RegistryList.host(input)
        } throws: { error in
            "\(error)".contains(hint)
        }
    }

    @Test func accountsAndRegionsMultiply() throws {
        #expect(try RegistryList.hosts(accounts: ["123456789012"], regions: ["us-east-1", "cn-north-1", "us-gov-west-1"]) == [
            "123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
            "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com",
        ])
        #expect(throws: RegistryList.Invalid.self) { try RegistryList.hosts(accounts: ["1234"], regions: ["us-east-1"]) }
        #expect(throws: RegistryList.Invalid.self) { try RegistryList.hosts(accounts: ["123456789012"], regions: ["moon"]) }
    }

    @Test func applyingTwiceChangesNothingTheSecondTime() throws {
        let plan = ClientConfigurator.Plan(registries: ["a.dkr.ecr.us-east-1.amazonaws.com"], credsStore: true)
        let first = try ClientConfigurator.apply(plan, to: try Self.document(#"{"auths": {}}"#), kind: .docker)
        #expect(first.changes == ["add credHelpers a.dkr.ecr.us-east-1.amazonaws.com", "set credsStore ecr"])
        let second = try ClientConfigurator.apply(plan, to: first.document, kind: .docker)
        #expect(!second.changed && second.document == first.document)
        let removed = try ClientConfigurator.apply(ClientConfigurator.Plan(registries: [], remove: true), to: first.document, kind: .docker)
        #expect(removed.document == (try Self.document(#"{"auths": {}}"#)))
    }

    @Test func aCredHelpersThatIsNotAnObjectIsAConflict() {
        #expect(throws: ClientConfigurator.Conflict.self) {
            try ClientConfigurator.apply(ClientConfigurator.Plan(registries: ["h"]), to: try Self.document(#"{"credHelpers": []}"#), kind: .docker)
        }
    }

    @Test func configuredRegionsComeFromTheEnvironmentThenEveryProfile() throws {
        let config = try AWSConfigFile(path: "/c", text: "[default]\nregion = eu-west-1\n[profile b]\nregion = us-east-1\n[profile c]\nregion = eu-west-1\n")
        let configuration = AWSConfiguration(configFile: config, credentialsFile: nil, configPath: "/c", credentialsPath: "/k")
        #expect(RegistryList.configuredRegions(environment: Environment(["AWS_REGION": "ap-south-1"]), configuration: configuration)
            == ["ap-south-1", "eu-west-1", "us-east-1"])
    }
}
