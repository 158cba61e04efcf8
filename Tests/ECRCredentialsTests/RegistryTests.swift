// Registry addresses as clients send them, and which hosts are ECR.
import ECRCredentials
import Testing

@Suite struct RegistryAddressTests {
    @Test(arguments: [
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com", nil),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com:443", "123456789012.dkr.ecr.us-east-1.amazonaws.com", 443),
        ("https://123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com", nil),
        ("https://123456789012.dkr.ecr.us-east-1.amazonaws.com:443", "123456789012.dkr.ecr.us-east-1.amazonaws.com", 443),
        ("https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/repo/manifests/latest", "123456789012.dkr.ecr.us-east-1.amazonaws.com", nil),
        ("http://123456789012.dkr.ecr.us-east-1.amazonaws.com:443", "123456789012.dkr.ecr.us-east-1.amazonaws.com", 443),
        ("HTTPS://123456789012.DKR.ECR.US-EAST-1.AMAZONAWS.COM", "123456789012.dkr.ecr.us-east-1.amazonaws.com", nil),
        ("  public.ecr.aws\n", "public.ecr.aws", nil),
        ("https://index.docker.io/v1/", "index.docker.io", nil),
        ("localhost:5000", "localhost", 5000),
        ("[::1]:5000", "::1", 5000),
        ("https://user@registry.example:8443/x?y#z", "registry.example", 8443),
        ("LOCALHOST", "localhost", nil),
        ("127.0.0.1:5000", "127.0.0.1", 5000),
        ("my-registry.example-1.io", "my-registry.example-1.io", nil),
        ("a", "a", nil),
        ("0-0.x", "0-0.x", nil),
        ("[2001:DB8::1]:443", "2001:db8::1", 443),
        ("[::]", "::", nil),
        ("[1:2:3:4:5:6:7:8]", "1:2:3:4:5:6:7:8", nil),
        ("https://[fd00:ec2::254]/x", "fd00:ec2::254", nil),
        ("registry.example/../x", "registry.example", nil),
        (String(repeating: "a.", count: 126) + "a", String(repeating: "a.", count: 126) + "a", nil),
    ] as [(String, String, Int?)])
    func parses(input: String, host: String, port: Int?) throws {
        let address = try RegistryAddress(parsing: input)
        #expect(address.host == host)
        #expect(address.port == port)
    }

    @Test(arguments: ["", "   ", "ftp://host", "https://", "host:", "host:0", "host:65536", "host:12a", "[::1", "bad host", "h\u{e9}st.example", "https://:443"])
    func rejects(input: String) {
        #expect(throws: RegistryAddress.ParseError.self) { try RegistryAddress(parsing: input) }
    }

    /// Hosts docker's reference grammar does not take for a registry: each is refused with what is wrong.
    @Test(arguments: [
        ("../x", "the host \"..\" has an empty label"),
        ("..", "the host \"..\" has an empty label"),
        (".registry.example", "the host \".registry.example\" has an empty label"),
        ("registry.example.", "the host \"registry.example.\" has an empty label"),
        ("registry..example", "the host \"registry..example\" has an empty label"),
        ("https://./v2/", "the host \".\" has an empty label"),
        ("-registry.example", "the host label \"-registry\" starts with '-'"),
        ("registry-.example", "the host label \"registry-\" ends with '-'"),
        ("registry.example.-", "the host label \"-\" starts with '-'"),
        ("reg_istry.example", "the host \"reg_istry.example\" has '_'"),
        ("reg.example.com_5000", "the host \"reg.example.com_5000\" has '_'"),
        ("_default", "the host \"_default\" has '_'"),
        ("bad host", "the host \"bad host\" has ' '"),
        ("h\u{e9}st.example", "the host \"h?st.example\" has U+E9"),
        ("a%2e%2e", "the host \"a%2e%2e\" has '%'"),
        ("::1", "the host \":\" has ':' (an IPv6 address goes in brackets"),
        ("::1:5000", "the host \"::1\" has ':' (an IPv6 address goes in brackets"),
        ("[]", "no host"),
        ("[::1%eth0]", "\"[::1%eth0]\" is not an IPv6 address"),
        ("[abc]", "\"[abc]\" is not an IPv6 address"),
        ("[1:2:3:4:5:6:7:8:9]", "\"[1:2:3:4:5:6:7:8:9]\" is not an IPv6 address"),
        ("[1::2::3]", "\"[1::2::3]\" is not an IPv6 address"),
        ("[12345::1]", "\"[12345::1]\" is not an IPv6 address"),
        ("[::ffff:1.2.3.4]", "\"[::ffff:1.2.3.4]\" is not an IPv6 address"),
        ("[g::1]", "\"[g::1]\" is not an IPv6 address"),
        (String(repeating: "a.", count: 127) + "a", "the host is longer than 253 characters"),
        ("registry." + String(repeating: "a", count: 64) + ".example", "the host label \"aaaaaaaaaaaaaaaaaaaa...\" is longer than 63 characters"),
    ])
    func refusesHostsThatAreNoRegistry(input: String, reason: String) {
        let error = #expect(throws: RegistryAddress.ParseError.self) { try RegistryAddress(parsing: input) }
        #expect(error?.reason.hasPrefix(reason) == true, "\(error.map { "\($0)" } ?? "no error")")
        #expect(error?.input == input)
    }

    @Test func aLabelOfSixtyThreeCharactersIsAHost() throws {
        let label = String(repeating: "a", count: 63)
        #expect(try RegistryAddress(parsing: "\(label).example:5000").host == "\(label).example")
    }

    @Test(arguments: [
        ("https://me:pw@registry.example/v2/", "user information"), ("me@registry.example", "user information"),
        ("http://@registry.example", "user information"), ("https://registry.example/v2/@x", nil), ("registry.example", nil),
        ("registry.example?u=a@b", "a query"), ("https://registry.example/#:pw", "a fragment"),
        ("https://registry.example\\me:pw@x", "a backslash"), ("https://index.docker.io/v1/", nil), ("[::1]:5000", nil),
    ])
    func partsALoginURLHasNoUseForAreFound(input: String, part: String?) {
        let found = RegistryAddress.extraneousPart(input)
        #expect(found?.hasPrefix(part ?? "") ?? (part == nil), "\(found ?? "none")")
        #expect((found == nil) == (part == nil))
    }

    @Test(arguments: [
        ("https://me:pw@old.example/v2/", "https://old.example/v2/"), ("https://q.example/v2/?password=x", "https://q.example/v2/"),
        ("https://f.example/#:pw", "https://f.example/"), ("https://bs.example\\me:pw@x", "https://bs.example"),
        ("me:pw@plain.example", "plain.example"), ("https://index.docker.io/v1/", "https://index.docker.io/v1/"),
        ("registry.example:5000", "registry.example:5000"),
    ])
    func listShowsAKeptURLWithoutItsUserInformationQueryOrFragment(url: String, shown: String) {
        #expect(RegistryAddress.displayForm(url) == shown)
    }

    @Test func everyNerdctlFormFindsTheSameKey() throws {
        let host = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
        let forms = ["\(host):443", "https://\(host):443", "http://\(host):443", host, "https://\(host)", "http://\(host)"]
        let keys = Set(try forms.map { CredentialHelper.registryKey(try RegistryAddress(parsing: $0)) })
        #expect(keys == [host])
    }
}

@Suite struct ECRRegistryTests {
    /// The host grammar as the split-based reader had it: labels split on ".", at least five; a
    /// 12-digit account; "dkr" "ecr[-fips]" or "dkr-ecr[-fips]"; a region; the rest the suffix.
    /// Returns (account, region, fips, dual-stack, suffix) or nil.
    static func referenceParts(_ host: String) -> (String, String, Bool, Bool, String)? {
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 5, labels[0].utf8.count == 12, labels[0].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        let (service, index, dualStack): (Substring, Int, Bool) =
            labels[1] == "dkr" ? (labels[2], 3, false) : labels[1].hasPrefix("dkr-") ? (labels[1].dropFirst(4), 2, true) : ("", 0, false)
        guard service == "ecr" || service == "ecr-fips", index < labels.count - 1, referenceIsRegionName(String(labels[index])) else { return nil }
        return (String(labels[0]), String(labels[index]), service == "ecr-fips", dualStack, labels[(index + 1)...].joined(separator: "."))
    }

    static func referenceIsRegionName(_ name: String) -> Bool {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, name.utf8.count <= 32, let last = parts.last else { return false }
        guard !last.isEmpty, last.count <= 3, last.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
        return parts.dropLast().allSatisfy { word in !word.isEmpty && word.utf8.allSatisfy { $0 >= 0x61 && $0 <= 0x7a } }
    }

    @Test func regionNamesAreReadAsTheSplitBasedReaderReadThem() {
        // Every string of up to 7 characters over an alphabet that reaches each rule.
        let alphabet: [Character] = ["a", "z", "-", "1", "0", "A", "_"]
        var names = [""]
        var checked = 0
        for _ in 1...7 {
            names = names.flatMap { name in alphabet.map { name + String($0) } }
            for name in names {
                #expect(ECRRegistry.isRegionName(name) == Self.referenceIsRegionName(name), "\(name)")
                checked += 1
            }
        }
        for name in ["us-east-1", "us-gov-west-1", "eu-isoe-west-1", "eusc-de-east-1", "us-east-1000", "us-east-", String(repeating: "a-", count: 16) + "1"] {
            #expect(ECRRegistry.isRegionName(name) == Self.referenceIsRegionName(name), "\(name)")
        }
        #expect(checked > 900_000)
    }

    @Test func hostsAreReadAsTheSplitBasedReaderReadThem() {
        let pieces = ["123456789012", "12345678901", "1234567890123", "dkr", "dkr-ecr", "dkr-ecr-fips", "dkr-", "ecr", "ecr-fips",
                      "us-west-2", "us-gov-west-1", "cn-north-1", "us-west", "", "amazonaws", "com", "cn", "on", "aws", "x"]
        // Real hosts with labels replaced, dropped or added at random, so most are near misses.
        let templates = [["123456789012", "dkr", "ecr", "us-west-2", "amazonaws", "com"], ["123456789012", "dkr-ecr", "us-west-2", "on", "aws"],
                         ["123456789012", "dkr", "ecr-fips", "cn-north-1", "amazonaws", "com", "cn"]]
        var generator = SystemRandomNumberGenerator()
        var recognised = 0
        for _ in 0..<60_000 {
            var labels = templates.randomElement(using: &generator)!.map { label in
                Int.random(in: 0..<4, using: &generator) == 0 ? pieces.randomElement(using: &generator)! : label
            }
            if Bool.random(using: &generator) { labels = Array(labels.prefix(Int.random(in: 1...labels.count, using: &generator))) }
            if Int.random(in: 0..<4, using: &generator) == 0 { labels.append(pieces.randomElement(using: &generator)!) }
            let host = labels.joined(separator: ".")
            let registry = ECRRegistry(host: host)
            guard let (account, region, fips, dualStack, suffix) = Self.referenceParts(host) else {
                #expect(registry == nil, "\(host)")
                continue
            }
            let known = AWSPartition.all.contains { (dualStack ? $0.registryDualStackSuffix : $0.dnsSuffix) == suffix }
            #expect((registry != nil) == known, "\(host)")
            if let registry {
                recognised += 1
                #expect(registry.accountID == account && registry.region == region && registry.fips == fips
                        && registry.dualStack == dualStack, "\(host)")
            }
        }
        #expect(recognised > 1_000)
        for host in ["123456789012.dkr.ecr.us-west-2.amazonaws.com", "123456789012.dkr-ecr.us-west-2.on.aws",
                     "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "123456789012.dkr.ecr.us-west-2.", "123456789012.dkr-ecr.us-west-2.aws"] {
            #expect((ECRRegistry(host: host) != nil) == (Self.referenceParts(host).map { parts in
                AWSPartition.all.contains { (parts.3 ? $0.registryDualStackSuffix : $0.dnsSuffix) == parts.4 } } ?? false), "\(host)")
        }
    }

    // host, account (nil for public), region, partition id, fips, dual-stack, API host
    @Test(arguments: [
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012", "us-east-1", "aws", false, false, "api.ecr.us-east-1.amazonaws.com"),
        ("123456789012.dkr.ecr.ap-southeast-5.amazonaws.com", "123456789012", "ap-southeast-5", "aws", false, false, "api.ecr.ap-southeast-5.amazonaws.com"),
        ("123456789012.dkr.ecr-fips.us-east-2.amazonaws.com", "123456789012", "us-east-2", "aws", true, false, "ecr-fips.us-east-2.amazonaws.com"),
        ("123456789012.dkr.ecr.us-gov-west-1.amazonaws.com", "123456789012", "us-gov-west-1", "aws-us-gov", false, false, "api.ecr.us-gov-west-1.amazonaws.com"),
        ("123456789012.dkr.ecr-fips.us-gov-east-1.amazonaws.com", "123456789012", "us-gov-east-1", "aws-us-gov", true, false, "ecr-fips.us-gov-east-1.amazonaws.com"),
        ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "123456789012", "cn-north-1", "aws-cn", false, false, "api.ecr.cn-north-1.amazonaws.com.cn"),
        ("123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn", "123456789012", "cn-northwest-1", "aws-cn", false, false, "api.ecr.cn-northwest-1.amazonaws.com.cn"),
        ("123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", "123456789012", "us-iso-east-1", "aws-iso", false, false, "api.ecr.us-iso-east-1.c2s.ic.gov"),
        ("123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", "123456789012", "us-isob-east-1", "aws-iso-b", false, false, "api.ecr.us-isob-east-1.sc2s.sgov.gov"),
        ("123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", "123456789012", "eu-isoe-west-1", "aws-iso-e", false, false, "api.ecr.eu-isoe-west-1.cloud.adc-e.uk"),
        ("123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov", "123456789012", "us-isof-south-1", "aws-iso-f", false, false, "api.ecr.us-isof-south-1.csp.hci.ic.gov"),
        ("123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", "123456789012", "eusc-de-east-1", "aws-eusc", false, false, "api.ecr.eusc-de-east-1.amazonaws.eu"),
        ("123456789012.dkr-ecr.us-west-2.on.aws", "123456789012", "us-west-2", "aws", false, true, "ecr.us-west-2.api.aws"),
        ("123456789012.dkr-ecr-fips.us-west-2.on.aws", "123456789012", "us-west-2", "aws", true, true, "ecr-fips.us-west-2.api.aws"),
        ("123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn", "123456789012", "cn-north-1", "aws-cn", false, true, "ecr.cn-north-1.api.amazonwebservices.com.cn"),
        ("public.ecr.aws", nil, "us-east-1", "aws", false, false, nil),
        ("ecr-public.aws.com", nil, "us-east-1", "aws", false, false, nil),
    ] as [(String, String?, String, String, Bool, Bool, String?)])
    func recognises(host: String, account: String?, region: String, partition: String, fips: Bool, dualStack: Bool, apiHost: String?) throws {
        let registry = try #require(ECRRegistry(host: host))
        #expect(registry.accountID == account)
        #expect(registry.region == region)
        #expect(registry.partition.id == partition)
        #expect(registry.fips == fips)
        #expect(registry.dualStack == dualStack)
        if let apiHost {
            #expect(registry.partition.ecrAPIHost(region: region, fips: fips, dualStack: dualStack) == apiHost)
        } else {
            #expect(registry.kind == .publicRegistry)
        }
    }

    @Test(arguments: [
        "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example",   // look-alike suffix
        "evil.example/123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "x123456789012.dkr.ecr.us-east-1.amazonaws.com",
        "12345678901.dkr.ecr.us-east-1.amazonaws.com",                 // 11 digits
        "1234567890123.dkr.ecr.us-east-1.amazonaws.com",               // 13 digits
        "12345678901a.dkr.ecr.us-east-1.amazonaws.com",
        "123456789012.dkr.ecr.amazonaws.com",                          // no region
        "123456789012.dkr.ecr..us-east-1.amazonaws.com",               // empty label
        "123456789012.dkr.ecr.us_east_1.amazonaws.com",                // bad region label
        "123456789012.dkr.ecr.-us-east-1.amazonaws.com",
        "123456789012.dkr.ecr.us-east-.amazonaws.com",
        "123456789012.dkr.ecr.useast1.amazonaws.com",
        "123456789012.dkr.ecrx.us-east-1.amazonaws.com",
        "123456789012.dkr.ecr-fipsx.us-east-1.amazonaws.com",
        "123456789012.dkr-ecr.us-east-1.amazonaws.com.evil",
        "123456789012.dkr.ecr.us-east-1.amazonaws.co",
        "123456789012.dkr.ecr.us-east-1.on.aws",                       // on.aws is the dkr-ecr form only
        "123456789012.dkr-ecr.us-east-1.amazonaws.com",                // and dkr-ecr is on.aws only
        "123456789012.ecr.us-east-1.amazonaws.com",
        "public.ecr.aws.evil.example",
        "xpublic.ecr.aws",
        "docker.io",
        "ghcr.io",
    ])
    func rejects(host: String) {
        #expect(ECRRegistry(host: host) == nil)
    }

    /// A backslash ends the authority, as WHATWG URL parsers end it: the host before it is the
    /// one named, not the ECR host after a `@`.
    @Test(arguments: ["https://evil.example\\@123456789012.dkr.ecr.us-east-1.amazonaws.com",
                      "evil.example\\@123456789012.dkr.ecr.us-east-1.amazonaws.com",
                      "https://evil.example\\x@123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/"])
    func aBackslashEndsTheAuthority(input: String) throws {
        let address = try RegistryAddress(parsing: input)
        #expect(address.host == "evil.example")
        #expect(ECRRegistry(address: address) == nil)
    }

    @Test func portsOtherThan443AreNotECR() throws {
        #expect(ECRRegistry(address: try RegistryAddress(parsing: "123456789012.dkr.ecr.us-east-1.amazonaws.com:5000")) == nil)
        #expect(ECRRegistry(address: try RegistryAddress(parsing: "https://123456789012.dkr.ecr.us-east-1.amazonaws.com:443")) != nil)
    }
}
