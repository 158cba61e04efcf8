// The kubelet's matchImages rules: labels globbed one by one, equal label counts, ports equal, path prefixes.
import Testing
@testable import ECRCredentials

@Suite struct ImagePatternTests {
    @Test(arguments: [
        ("*.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.us-west-2.amazonaws.com/team/app", true),
        ("*.dkr.ecr.*.amazonaws.com", "123456789012.dkr.ecr.us-west-2.amazonaws.com.cn/team/app", false),
        ("*.amazonaws.com", "123456789012.dkr.ecr.us-west-2.amazonaws.com/app", false),  // `*` never spans a dot
        ("docker.io", "docker.io/library/nginx", true),
        ("docker.io/library", "docker.io/library/nginx", true),
        ("docker.io/team", "docker.io/library/nginx", false),
        ("registry:5000", "registry:5000/app", true),
        ("registry", "registry:5000/app", false),
        ("https://quay.io", "quay.io/org/app", true),
        ("q?ay.io", "quay.io/org/app", true),
    ]) func patterns(_ pattern: String, _ image: String, _ matches: Bool) {
        #expect(ImagePattern.matches(pattern, image: image) == matches)
    }

    @Test(arguments: ["", "ftp://x", "a..b", "host:x", "a b.io"]) func badPatterns(_ pattern: String) {
        #expect(ImagePattern.problem(pattern) != nil)
    }
}
