// containerd's hosts.toml files: their text, and what is written, left alone or refused.
import ECRCredentials
import Foundation
import Testing

@Suite struct ContainerdHostsTests {
    static let r = MirrorMapTests.r

    @Test func theFileSendsTheUpstreamToTheMirrorAndNeverBackToTheUpstream() throws {
        let text = ContainerdHosts.text(for: try Mirror(parsing: "docker.io=\(Self.r)/docker-hub"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("#") }
        #expect(text.hasPrefix(ContainerdHosts.marker + "\n"))
        #expect(lines == [
            "server = \"https://\(Self.r)/v2/docker-hub\"",
            "capabilities = [\"pull\", \"resolve\"]",
            "override_path = true",
            "",
            "[host.\"https://\(Self.r)/v2/docker-hub\"]",
            "  capabilities = [\"pull\", \"resolve\"]",
            "  override_path = true",
            "",
        ])
        // Without a prefix (ECR's ROOT), the mirror's API root is /v2 itself.
        #expect(ContainerdHosts.text(for: try Mirror(parsing: "ghcr.io=\(Self.r)")).contains("server = \"https://\(Self.r)/v2\"\n"))
    }

    @Test func filesAreWrittenAndOthersLeftAlone() throws {
        let scratch = try TemporaryDirectory()
        let directory = scratch.path + "/certs.d"
        try FileManager.default.createDirectory(atPath: directory + "/ghcr.io", withIntermediateDirectories: true)
        try "theirs\n".write(toFile: directory + "/ghcr.io/hosts.toml", atomically: false, encoding: .utf8)
        let hosts = ContainerdHosts(directory: directory + "/")
        let map = try MirrorMap(arguments: ["docker.io=\(Self.r)/docker-hub", "quay.io=\(Self.r)/quay"])
        let entries = try hosts.plan(map)
        // Every name of Docker Hub gets the file: containerd looks it up by the image's own name.
        #expect(entries.map(\.path) == ["docker.io", "index.docker.io", "registry-1.docker.io", "quay.io"].map { directory + "/\($0)/hosts.toml" })
        #expect(entries.allSatisfy { !$0.isUnchanged })
        try hosts.write(entries)
        for entry in entries {
            #expect(try String(contentsOfFile: entry.path, encoding: .utf8) == entry.text)
            let attributes = try FileManager.default.attributesOfItem(atPath: entry.path)
            #expect((attributes[.posixPermissions] as? Int) == 0o644)
        }
        #expect(try String(contentsOfFile: directory + "/ghcr.io/hosts.toml", encoding: .utf8) == "theirs\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/docker.io") == ["hosts.toml"])
        // Again: nothing to do.
        #expect(try hosts.plan(map).allSatisfy(\.isUnchanged))
        // A changed mapping replaces our own file without --force.
        let changed = try hosts.plan(try MirrorMap(arguments: ["docker.io=\(Self.r)/hub"]))
        #expect(changed.map(\.isUnchanged) == [false, false, false])
    }

    /// A link in place of a host's directory would take the file outside the directory given.
    @Test func aLinkedHostDirectoryIsNotWrittenThrough() throws {
        let scratch = try TemporaryDirectory()
        let outside = scratch.path + "/outside"
        try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scratch.path + "/certs.d", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: scratch.path + "/certs.d/quay.io", withDestinationPath: outside)
        let hosts = ContainerdHosts(directory: scratch.path + "/certs.d")
        let entries = try hosts.plan(try MirrorMap(arguments: ["quay.io=\(Self.r)/quay"]))
        #expect(throws: ContainerdHosts.Refusal.self) { try hosts.write(entries) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
        // One linked name of several: none of the set is written.
        try FileManager.default.createSymbolicLink(atPath: scratch.path + "/certs.d/index.docker.io", withDestinationPath: outside)
        let hub = try hosts.plan(try MirrorMap(arguments: ["docker.io=\(Self.r)/hub"]))
        #expect(throws: ContainerdHosts.Refusal.self) { try hosts.write(hub) }
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/certs.d/docker.io/hosts.toml"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
    }

    @Test func aForeignHostsFileIsReplacedOnlyWithForce() throws {
        let scratch = try TemporaryDirectory()
        let directory = scratch.path
        try FileManager.default.createDirectory(atPath: directory + "/docker.io", withIntermediateDirectories: true)
        try "server = \"https://registry-1.docker.io\"\n".write(toFile: directory + "/docker.io/hosts.toml", atomically: false, encoding: .utf8)
        let map = try MirrorMap(arguments: ["docker.io=\(Self.r)/docker-hub"])
        let error = #expect(throws: ContainerdHosts.Refusal.self) { try ContainerdHosts(directory: directory).plan(map) }
        #expect("\(error.map { "\($0)" } ?? "")" == "refusing to replace \(directory)/docker.io/hosts.toml: it was not written by "
            + "ecr-credential-provider containerd-hosts (its first line is not \"\(ContainerdHosts.marker)\"); move it away or add --force to replace it")
        let forced = ContainerdHosts(directory: directory, force: true)
        try forced.write(try forced.plan(map))
        #expect(try String(contentsOfFile: directory + "/docker.io/hosts.toml", encoding: .utf8).hasPrefix(ContainerdHosts.marker))
    }

    @Test func aLinkInPlaceOfTheFileIsRefused() throws {
        let scratch = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: scratch.path + "/docker.io", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: scratch.path + "/docker.io/hosts.toml", withDestinationPath: "/etc/hostname")
        let map = try MirrorMap(arguments: ["docker.io=\(Self.r)/docker-hub"])
        #expect(throws: ContainerdHosts.Refusal.self) { try ContainerdHosts(directory: scratch.path).plan(map) }
    }
}
