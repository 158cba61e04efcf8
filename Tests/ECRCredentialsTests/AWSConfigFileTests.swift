// The shared config and credentials files, as real users write them.
import ECRCredentials
import Testing

@Suite struct AWSConfigFileTests {
    static let realWorld = """
    # comment
    ; another comment
    [default]
    region = us-east-1
    output=json

    [profile dev]
    region = eu-west-1
    role_arn = arn:aws:iam::123456789012:role/dev
    source_profile = default
    s3 =
      addressing_style = path
      max_concurrent_requests = 20
    credential_process = /usr/bin/tool --arg "a # b"

    [profile  spaced   name ]
    region=ap-south-1
    [sso-session corp]
    sso_start_url = https://corp.awsapps.com/start
    sso_region = us-east-1
    [services local]
    ecr =
      endpoint_url = http://127.0.0.1:5000
    """

    @Test func parsesARealWorldFile() throws {
        let file = try AWSConfigFile(path: "/home/u/.aws/config", text: Self.realWorld)
        #expect(file.sections.map(\.header) == ["default", "profile dev", "profile spaced name", "sso-session corp", "services local"])
        let dev = try #require(file.section("profile dev"))
        #expect(dev.values["region"] == "eu-west-1")
        #expect(dev.values["s3"] == "")
        #expect(dev.subsections["s3"] == ["addressing_style": "path", "max_concurrent_requests": "20"])
        #expect(dev.values["credential_process"] == "/usr/bin/tool --arg \"a # b\"")
        #expect(file.section("default")?.values["output"] == "json")
        #expect(file.section("services local")?.subsections["ecr"]?["endpoint_url"] == "http://127.0.0.1:5000")
    }

    @Test func keysAreCaseInsensitiveAndRepeatedSectionsMerge() throws {
        let file = try AWSConfigFile(path: "c", text: "[default]\nAWS_Access_Key_ID = A\n[x]\nk=1\n[default]\naws_secret_access_key = S\r\n")
        #expect(file.section("default")?.values == ["aws_access_key_id": "A", "aws_secret_access_key": "S"])
    }

    @Test func continuationLinesExtendAValue() throws {
        let file = try AWSConfigFile(path: "c", text: "[default]\nnote = first\n  second\n")
        #expect(file.section("default")?.values["note"] == "first\nsecond")
    }

    @Test(arguments: [
        ("region = us-east-1\n", 1, "a setting before any [section]"),
        ("[default]\njust words\n", 2, "expected `name = value` or a [section]"),
        ("[default\nregion = x\n", 1, "section header without ]"),
        ("[default]\n= value\n", 2, "a setting without a name"),
        ("[]\n", 1, "empty section name"),
        ("[default] trailing\n", 1, "unexpected text after ]"),
    ])
    func reportsFileAndLine(text: String, line: Int, reason: String) {
        #expect {
            try AWSConfigFile(path: "/home/u/.aws/config", text: text)
        } throws: { error in
            let error = error as? AWSConfigFile.ParseError
            return error?.line == line && error?.reason == reason
                && error?.description == "/home/u/.aws/config:\(line): \(reason)"
        }
    }

    @Test func credentialsFileWinsOverConfigFile() throws {
        let config = try AWSConfigFile(path: "/c", text: "[profile dev]\nregion = eu-west-1\naws_access_key_id = FROMCONFIG\n[default]\nregion=us-east-2\n")
        let credentials = try AWSConfigFile(path: "/k", text: "[dev]\naws_access_key_id = FROMCREDS\naws_secret_access_key = S\n[profile ignored]\nx=1\n")
        let configuration = AWSConfiguration(configFile: config, credentialsFile: credentials, configPath: "/c", credentialsPath: "/k")
        let dev = try #require(configuration.profile(named: "dev"))
        #expect(dev["aws_access_key_id"] == "FROMCREDS")
        #expect(dev["region"] == "eu-west-1")
        #expect(dev.origin(of: "aws_access_key_id") == "/k [dev]")
        #expect(dev.origin(of: "region") == "/c [profile dev]")
        #expect(configuration.profile(named: "default")?["region"] == "us-east-2")
        #expect(configuration.profile(named: "nope") == nil)
        // A bare [name] in the config file is not a profile (only [default] is).
        let bare = try AWSConfigFile(path: "/c", text: "[dev]\nregion = x\n")
        #expect(AWSConfiguration(configFile: bare, credentialsFile: nil, configPath: "/c", credentialsPath: "/k").profile(named: "dev") == nil)
    }
}
