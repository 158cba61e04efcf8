// The node doctor's inputs: YAML read as the kubelet reads it, the config rules, and the kubelet's flags in each file form.
import Testing
@testable import ECRCredentials

#if canImport(Glibc)
import Glibc
#endif

@Suite struct YAMLReaderTests {
    func read(_ text: String) throws -> YAMLReader { try YAMLReader(parsing: Array(text.utf8)) }

    @Test func scalarsResolveAsYAML11() throws {
        let yaml = try read("""
        a: 12h
        b: "12"
        c: 12
        d: yes
        e: off
        f: ~
        g: 0x1f
        h: 1.5
        i: -7
        j: 'true'
        k: .5
        l: 1e3
        m: !!str 5
        """)
        #expect(yaml.document == .object([
            ("a", .string("12h")), ("b", .string("12")), ("c", .number("12")), ("d", .bool(true)), ("e", .bool(false)),
            ("f", .null), ("g", .number("31")), ("h", .number("1.5")), ("i", .number("-7")), ("j", .string("true")),
            ("k", .number("0.5")), ("l", .number("1e3")), ("m", .string("5")),
        ]))
    }

    /// Found by the kubelet-yaml fuzz target: a second sign after `0x` made the number text
    /// "--1", which no JSON reader takes back. Such a scalar is a string, as YAML 1.1 reads it.
    @Test(arguments: ["-0x-1", "0x+1", "-0b-1", "+0x-ff"])
    func aSignAfterTheRadixPrefixIsAString(scalar: String) throws {
        let yaml = try read("a: \(scalar)\n")
        #expect(yaml.document == .object([("a", .string(scalar))]))
        #expect(try JSONDocument(parsing: Array(yaml.document.text.utf8)) == yaml.document)
    }

    @Test func listsAnchorsAndMerges() throws {
        let yaml = try read("""
        base: &base
          apiVersion: v1
          args: [--a, "--b"]
        providers:
        - <<: *base
          name: one
        - name: two
          args: *list
        """.replacingAnchorForTest())
        #expect(yaml.document["providers"] == .array([
            .object([("apiVersion", .string("v1")), ("args", .array([.string("--a"), .string("--b")])), ("name", .string("one"))]),
            .object([("name", .string("two")), ("args", .array([.string("--a"), .string("--b")]))]),
        ]))
        #expect(yaml.lines["providers[0]"] == 5 && yaml.lines["providers[1].name"] == 7 && yaml.lines["base.args"] == 3)
    }

    @Test func aKeyGivenTwiceIsRefusedWithItsLine() {
        #expect(throws: YAMLReader.ParseError.self) { try read("a: 1\nb: 2\na: 3\n") }
        do {
            _ = try read("a: 1\nb:\n  c: 1\n  c: 2\n")
        } catch let failure as YAMLReader.ParseError {
            #expect(failure.line == 4 && failure.field == "b.c" && failure.reason.hasPrefix("given twice"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func syntaxErrorsNameTheLine() {
        do {
            _ = try read("kind: x\nproviders:\n  - name: a\n   bad: [\n")
            Issue.record("parsed")
        } catch let failure as YAMLReader.ParseError {
            #expect(failure.line != nil && failure.line! >= 4)
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func onlyTheFirstDocumentIsRead() throws {
        #expect(try read("a: 1\n---\nb: 2\n").document == .object([("a", .number("1"))]))
        #expect(try read("").document == .null)
    }
}

private extension String {
    /// `*list` names the anchor of the first provider's args in the test above.
    func replacingAnchorForTest() -> String {
        replacing("args: [--a, \"--b\"]", with: "args: &list [--a, \"--b\"]")
    }
}

@Suite struct KubeletProviderConfigTests {
    func providers(_ text: String) throws -> [KubeletProviderConfig.Provider] {
        try KubeletProviderConfig.providers(in: Array(text.utf8), file: "/etc/config.yaml")
    }

    let good = """
    apiVersion: kubelet.config.k8s.io/v1
    kind: CredentialProviderConfig
    providers:
      - name: ecr-credential-provider
        matchImages:
          - "*.dkr.ecr.*.amazonaws.com"
        defaultCacheDuration: 12h
        apiVersion: credentialprovider.kubelet.k8s.io/v1
        env:
          - name: AWS_REGION
            value: us-west-2
    """

    @Test func aYAMLConfigReadsAsItsJSONForm() throws {
        let all = try providers(good)
        let provider = try #require(all.first)
        #expect(all.count == 1)
        #expect(provider.name == "ecr-credential-provider" && provider.defaultCacheDuration == "12h" && provider.env == ["AWS_REGION": "us-west-2"])
    }

    @Test(arguments: [
        ("    cacheDuration: 1h\n", "providers[0].cacheDuration: unknown field", 12),
        ("    name: other\n", "providers[0].name: given twice", 12),
        ("    tokenAttributes:\n      serviceAccountTokenAudience: sts.amazonaws.com\n      cacheType: Token\n",
         "providers[0].tokenAttributes.requireServiceAccount: is required", 12),
    ]) func mistakesNameFieldAndLine(_ extra: String, _ message: String, _ line: Int) {
        do {
            _ = try providers(good + "\n" + extra)
            Issue.record("accepted")
        } catch {
            #expect("\(error)".hasPrefix("/etc/config.yaml: \(message)"), "\(error)")
            #expect("\(error)".hasSuffix("(line \(line))"), "\(error)")
        }
    }

    @Test func aNumberWhereTheKubeletWantsAStringIsRefused() {
        let text = good.replacing("defaultCacheDuration: 12h", with: "defaultCacheDuration: 12")
        #expect(throws: KubeletProviderConfig.Invalid.self) { try providers(text) }
    }

    @Test func tokenAttributesNeedTheV1PluginAPI() {
        let text = good.replacing("credentialprovider.kubelet.k8s.io/v1", with: "credentialprovider.kubelet.k8s.io/v1beta1")
            + "\n    tokenAttributes:\n      serviceAccountTokenAudience: a\n      requireServiceAccount: true\n      cacheType: Token\n"
        do {
            _ = try providers(text)
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains("providers[0].tokenAttributes: is only supported for the plugin API credentialprovider.kubelet.k8s.io/v1"))
        }
    }
}

@Suite struct KubeletFlagsTests {
    @Test func goFlagForms() {
        let words = ["--config", "/c", "--image-credential-provider-config", "/a.yaml", "-image-credential-provider-bin-dir=/bin1",
                     "--image-credential-provider-bin-dir=/bin2", "--image-credential-provider-config-x=/no"]
        let found = KubeletFlags.flags(in: words)
        #expect(found.config == "/a.yaml" && found.binDirectory == "/bin2")
    }

    @Test func environmentFilesUnquoteAsSystemdDoes() {
        let text = """
        # nodeadm
        NODEADM_KUBELET_ARGS="--image-credential-provider-config=/etc/eks/image-credential-provider/config.json --node-labels=\\"a=b\\""
        export KUBELET_EXTRA_ARGS='--v=2'
        BARE=--x=1 \\
          --y=2
        ; comment
        """
        let assignments = KubeletFlags.environmentFile(text)
        #expect(assignments.map(\.0) == ["NODEADM_KUBELET_ARGS", "KUBELET_EXTRA_ARGS", "BARE"])
        #expect(assignments[0].1 == "--image-credential-provider-config=/etc/eks/image-credential-provider/config.json --node-labels=\"a=b\"")
        #expect(assignments[1].1 == "--v=2" && assignments[2].1 == "--x=1 --y=2")
    }

    @Test func aRunningKubeletIsFoundInProcOnlyWhenRootRunsIt() throws {
        let proc = "/tmp/kubelet-flags-test-\(getpid())"
        let pids = ["40", "41", "42", "7"]
        defer {
            for pid in pids {
                for file in ["cmdline", "status", "exe"] { unlink("\(proc)/\(pid)/\(file)") }
                rmdir("\(proc)/\(pid)")
            }
            rmdir(proc)
        }
        try PrivateFile.makeDirectory(proc)
        // pid 42 names itself kubelet with a lower kind order than kubelite, but a user runs it.
        for (pid, argv, uid) in [("40", ["/usr/bin/containerd"], 0), ("41", ["/usr/bin/kubelet", "--image-credential-provider-bin-dir", "/bin"], 0),
                                 ("42", ["kubelet", "--image-credential-provider-bin-dir", "/tmp/evil"], 1000),
                                 ("7", ["/snap/microk8s/123/kubelite", "--kubelet-args-file=/x"], 0)] {
            try PrivateFile.makeDirectory("\(proc)/\(pid)")
            try PrivateFile.writeAtomically(Array((argv.joined(separator: "\0") + "\0").utf8), to: "\(proc)/\(pid)/cmdline")
            try PrivateFile.writeAtomically(Array("Name:\tx\nUid:\t\(uid)\t\(uid)\t\(uid)\t\(uid)\n".utf8), to: "\(proc)/\(pid)/status")
            #expect(symlink("/bin/sh", "\(proc)/\(pid)/exe") == 0)
        }
        let search = KubeletFlags.search(proc: proc)
        let process = try #require(search.process)
        #expect(process.pid == 41 && process.kind == "kubelet")
        #expect(search.ignored == ["pid 42 (kubelet): its real uid is 1000, not root"])
        let flags = try #require(KubeletFlags.fromProcess(process))
        #expect(flags.config == nil && flags.binDirectory == "/bin" && flags.source == "the running kubelet (pid 41: /usr/bin/kubelet)")
    }

    @Test(arguments: [
        ("${SNAP_DATA}/args/c.yaml", "/var/snap/microk8s/current/args/c.yaml"),
        ("$SNAP_COMMON/bin $SNAP/x", "/var/snap/microk8s/common/bin /snap/microk8s/current/x"),
        ("$SNAP_COMMONX/bin ${SNAP_COMMONX} $$ $", "$SNAP_COMMONX/bin ${SNAP_COMMONX} $$ $"),
        ("${SNAP_DATA", "${SNAP_DATA"),
    ])
    func snapVariablesExpandByWholeName(text: String, expanded: String) {
        #expect(KubeletFlags.expandingSnapVariables(text) == expanded)
    }
}

@Suite struct YAMLDepthTests {
    @Test func nestingIsRefusedPast256LevelsAsInJSON() throws {
        let deep = Array(("a: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)).utf8)
        do {
            _ = try YAMLReader(parsing: deep)
            Issue.record("accepted")
        } catch {
            #expect("\(error)" == "line 1: nested more than 256 levels deep")
        }
        let fine = Array(("a: " + String(repeating: "[", count: 200) + String(repeating: "]", count: 200)).utf8)
        _ = try YAMLReader(parsing: fine)
    }
}
