// containerd's registry host files (`hosts.toml` under config_path) that send upstream pulls to their ECR mirror.
#if canImport(Glibc)
import Glibc
#endif

/// Writes `DIR/UPSTREAM/hosts.toml` for each mirror, so that containerd pulls
/// `docker.io/library/nginx` from `https://R/v2/docker-hub/library/nginx`.
///
/// Each file names the mirror twice: as its one `[host]` and as the `server`, the host
/// containerd tries last. containerd would otherwise fall back to the upstream itself when the
/// mirror fails, with the kubelet's credentials, which are the ECR token: that sends the token to
/// Docker Hub, which answers 401 (bad credentials are refused, not treated as an anonymous pull).
/// So a failing mirror fails the pull with ECR's own error, and the token never leaves ECR.
package struct ContainerdHosts: Sendable {
    /// containerd's usual `config_path`, and the one EKS AL2023 nodes use.
    package static let defaultDirectory = "/etc/containerd/certs.d"
    /// The first line of every file written here; a `hosts.toml` without it is someone else's.
    package static let marker = "# Written by ecr-credential-provider containerd-hosts."

    /// A file not written, and why.
    package struct Refusal: Error, Sendable, CustomStringConvertible {
        /// The file.
        package var path: String
        /// Why.
        package var reason: String
        /// For example "refusing to replace /etc/containerd/certs.d/docker.io/hosts.toml: ...".
        package var description: String { "refusing to replace \(path): \(reason)" }
    }

    /// One file to write.
    package struct Entry: Sendable, Equatable {
        /// The mirror it serves.
        package var mirror: Mirror
        /// `DIR/UPSTREAM/hosts.toml`.
        package var path: String
        /// The file's text.
        package var text: String
        /// Whether the file already holds exactly this text.
        package var isUnchanged: Bool
    }

    /// The directory the files go under.
    package var directory: String
    /// Whether a `hosts.toml` this tool did not write may be replaced. Default false.
    package var force: Bool

    /// Creates a writer for `directory` (default `/etc/containerd/certs.d`).
    package init(directory: String = ContainerdHosts.defaultDirectory, force: Bool = false) {
        self.directory = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        self.force = force
    }

    /// The `hosts.toml` text for `mirror`.
    package static func text(for mirror: Mirror) -> String {
        let url = "https://\(mirror.registry.host)/v2" + (mirror.prefix.isEmpty ? "" : "/\(mirror.prefix)")
        return """
        \(marker)
        # \(mirror.upstream) images are pulled through \(mirror.target), with the ECR token that
        # ecr-credential-provider gives the kubelet for \(mirror.upstream) (see its --mirror argument).
        # The server is the mirror too: when the mirror fails, the pull fails with ECR's error
        # instead of sending the ECR token to \(mirror.upstream), which would refuse it.
        server = "\(url)"
        capabilities = ["pull", "resolve"]
        override_path = true

        [host."\(url)"]
          capabilities = ["pull", "resolve"]
          override_path = true

        """
    }

    /// The files for `mirrors`, checked against what is there.
    /// - Throws: `Refusal` for a `hosts.toml` this tool did not write (unless `force`), or one
    ///   that is not a regular file; `SystemError` when one cannot be read.
    package func plan(_ mirrors: MirrorMap) throws -> [Entry] {
        // A file for every name of the upstream (Docker Hub has three): containerd looks the
        // file up by the name the image carries, and a name without one would send the ECR token
        // the plugin answers for it to the upstream itself.
        try mirrors.mirrors.flatMap { mirror in mirror.upstreamHosts.map { (mirror, $0) } }.map { mirror, host in
            let path = "\(directory)/\(host)/hosts.toml"
            let text = Self.text(for: mirror)
            var existing: [UInt8]?
            do {
                existing = try PrivateFile.read(path, policy: .notFollowed)
            } catch let refusal as PrivateFile.Refusal {
                if !force { throw Refusal(path: path, reason: "\(refusal.reason); --force replaces it") }
            }
            if let existing, !force, !existing.starts(with: Array(Self.marker.utf8)) {
                throw Refusal(path: path, reason: "it was not written by ecr-credential-provider containerd-hosts "
                              + "(its first line is not \"\(Self.marker)\"); move it away or add --force to replace it")
            }
            return Entry(mirror: mirror, path: path, text: text, isUnchanged: existing == Array(text.utf8))
        }
    }

    /// Writes the entries that changed, each atomically (a new file renamed into place), mode
    /// 0644 in directories made 0755; other hosts' files are never touched.
    /// - Throws: `SystemError` when a directory or file cannot be written.
    package func write(_ entries: [Entry]) throws {
        // Every host's directory first, so that a refusal leaves no file of the set written.
        let changed = entries.filter { !$0.isUnchanged }
        for entry in changed {
            let hostDirectory = String(entry.path.dropLast("/hosts.toml".count))
            try Self.makeDirectories(directory)
            // The host's own directory is made here or must be a real one: a link there would
            // take the file outside the directory given.
            if mkdir(hostDirectory, 0o755) != 0 && errno != EEXIST { throw SystemError.current("create directory", path: hostDirectory) }
            var info = stat()
            guard lstat(hostDirectory, &info) == 0 else { throw SystemError.current("stat", path: hostDirectory) }
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw Refusal(path: hostDirectory, reason: "it is \(PrivateFile.kindName(info.st_mode)), not a directory; not writing through it")
            }
        }
        for entry in changed {
            try PrivateFile.writeAtomically(Array(entry.text.utf8), to: entry.path, mode: 0o644)
        }
    }

    /// What containerd needs so that it reads the files: the `config_path` setting and a restart.
    package var restartAdvice: String {
        """
        containerd reads these files at each pull, once its CRI registry config_path is \(directory):
          containerd 1.x (/etc/containerd/config.toml, version = 2):
            [plugins."io.containerd.grpc.v1.cri".registry]
              config_path = "\(directory)"
          containerd 2.x (version = 3):
            [plugins."io.containerd.cri.v1.images".registry]
              config_path = "\(directory)"
        If that line is new, restart containerd: systemctl restart containerd

        """
    }

    /// Creates `path` and its missing parents, 0755.
    static func makeDirectories(_ path: String) throws {
        var built = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            built += "/\(component)"
            if mkdir(built, 0o755) != 0 && errno != EEXIST {
                throw SystemError.current("create directory", path: built)
            }
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw SystemError.current("stat", path: path) }
        guard info.st_mode & S_IFMT == S_IFDIR else { throw SystemError("create directory", path: path, code: ENOTDIR) }
    }
}
