// Where the kubelet's credential provider flags are: the running kubelet, else the files each distribution writes.

#if canImport(Glibc)
import Glibc
#endif

/// The kubelet's `--image-credential-provider-config` and `--image-credential-provider-bin-dir`,
/// and where they were found: the running kubelet's command line (`/proc/PID/cmdline`; k3s and
/// MicroK8s embed the kubelet in `k3s` and `kubelite`), else the files that start it: EKS
/// nodeadm's `/etc/eks/kubelet/environment`, kubeadm's `/var/lib/kubelet/kubeadm-flags.env` with
/// `/etc/default/kubelet` (or `/etc/sysconfig/kubelet`), k3s's `/etc/rancher/k3s/config.yaml`
/// and `config.yaml.d/*.yaml`, and MicroK8s's `/var/snap/microk8s/current/args/kubelet`.
package struct KubeletFlags: Sendable, Equatable {
    /// The config file or directory, when a flag names it.
    package var config: String?
    /// The bin directory, when a flag names it.
    package var binDirectory: String?
    /// Where they came from, for the report ("the running kubelet (pid 812: /usr/bin/kubelet)").
    package var source: String
    /// Files among the places read that the kubelet's distribution could not read either
    /// ("/etc/rancher/k3s/config.yaml: line 1: nested more than 256 levels deep").
    package var problems: [String] = []

    /// The running kubelet (or the process that embeds it).
    package struct Process: Sendable, Equatable {
        /// Its process id.
        package var pid: Int32
        /// Its command line.
        package var arguments: [String]
        /// What it is: `kubelet`, `k3s` or `kubelite`.
        package var kind: String
    }

    /// Creates flags.
    package init(config: String?, binDirectory: String?, source: String) {
        self.config = config
        self.binDirectory = binDirectory
        self.source = source
    }

    /// The flags of the running kubelet when there is one, else of the first known place that
    /// names them; nil when none does. `tried` receives each place looked at, for the report.
    package static func find(process: Process?, tried: inout [String]) -> KubeletFlags? {
        if let process {
            tried.append("the running \(process.kind) (pid \(process.pid))")
            if let flags = fromProcess(process) { return flags }
        } else {
            tried.append("a running kubelet (none in /proc)")
        }
        let places: [(String, () -> KubeletFlags?)] = [
            (nodeadmEnvironment, { fromEnvironmentFiles([nodeadmEnvironment], source: "\(nodeadmEnvironment) (EKS nodeadm)") }),
            (kubeadmFlags, { fromEnvironmentFiles([kubeadmFlags] + extraArguments, source: "kubeadm") }),
            (k3sConfig, { fromK3s() }),
            (microk8sArguments, { fromArgumentsFile(microk8sArguments, source: "\(microk8sArguments) (MicroK8s)") }),
            (eksConfig, { fromEKSDefaults() }),
        ]
        for (place, read) in places {
            tried.append(place)
            if let flags = read() { return flags }
        }
        return nil
    }

    // MARK: the places

    /// EKS nodeadm's kubelet environment file (`NODEADM_KUBELET_ARGS="--flag=value ..."`).
    package static let nodeadmEnvironment = "/etc/eks/kubelet/environment"
    /// The provider config the EKS AMIs ship (nodeadm and the older bootstrap.sh alike).
    package static let eksConfig = "/etc/eks/image-credential-provider/config.json"
    /// kubeadm's flags file (`KUBELET_KUBEADM_ARGS="..."`).
    package static let kubeadmFlags = "/var/lib/kubelet/kubeadm-flags.env"
    /// The packages' `KUBELET_EXTRA_ARGS` files, which the kubeadm drop-in adds after kubeadm's flags.
    package static let extraArguments = ["/etc/default/kubelet", "/etc/sysconfig/kubelet"]
    /// k3s's config file; `config.yaml.d/*.yaml` beside it are merged over it.
    package static let k3sConfig = "/etc/rancher/k3s/config.yaml"
    /// The provider paths k3s gives the kubelet unless told otherwise.
    package static let k3sDefaults = (config: "/var/lib/rancher/credentialprovider/config.yaml", binDirectory: "/var/lib/rancher/credentialprovider/bin")
    /// MicroK8s's kubelet arguments file (one flag a line).
    package static let microk8sArguments = "/var/snap/microk8s/current/args/kubelet"
    /// The snap variables MicroK8s's args files use.
    static let snapVariables = [("SNAP_COMMON", "/var/snap/microk8s/common"), ("SNAP_DATA", "/var/snap/microk8s/current"),
                                ("SNAP", "/snap/microk8s/current")]

    // MARK: the running kubelet

    /// The running kubelet in `/proc`: a process whose program is `kubelet`, else `kubelite`
    /// (MicroK8s) or a k3s server or agent, that `search(proc:)` trusts. The lowest pid wins among several of a kind.
    package static func runningKubelet(proc: String = "/proc") -> Process? {
        search(proc: proc).process
    }

    /// What a look for the running kubelet found: the trusted process, and the processes named
    /// like one that were ignored, each with why ("pid 812 (kubelet): its real uid is 1000, not root").
    package struct Search: Sendable, Equatable {
        /// The running kubelet, when a trusted one runs.
        package var process: Process?
        /// The processes named kubelet, kubelite or k3s that were not trusted, and why.
        package var ignored: [String]

        /// Creates a result.
        package init(process: Process?, ignored: [String] = []) {
            self.process = process
            self.ignored = ignored
        }
    }

    /// Looks for the running kubelet in `/proc`. Only a process that root runs is trusted: its
    /// real and effective uids (the `Uid:` line of `/proc/PID/status`) are 0 and its program
    /// (`/proc/PID/exe`) is a root-owned file that no one else can write. Anyone can name a process
    /// "kubelet"; the doctor runs what the kubelet's flags name, with its environment, so a
    /// process another user started must not choose them.
    package static func search(proc: String = "/proc") -> Search {
        var found: [Process] = []
        var ignored: [String] = []
        for name in (try? PrivateFile.names(in: proc)) ?? [] {
            guard let pid = Int32(name), pid > 0 else { continue }
            guard let bytes = try? PrivateFile.read("\(proc)/\(name)/cmdline"), !bytes.isEmpty else { continue }
            let arguments = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
                .reversed().drop { $0.isEmpty }.reversed().map { $0 }
            guard let first = arguments.first else { continue }
            // A program that rewrote its title may put everything in argv[0] ("k3s server").
            let program = String(first.split(separator: " ").first ?? "").split(separator: "/").last.map(String.init) ?? ""
            let kind: String
            switch program {
            case "kubelet": kind = "kubelet"
            case "kubelite": kind = "kubelite"
            case "k3s", "k3s-server", "k3s-agent": kind = "k3s"
            default: continue
            }
            if let distrust = distrust(pid: pid, proc: proc) {
                ignored.append("pid \(pid) (\(kind)): \(distrust)")
                continue
            }
            found.append(Process(pid: pid, arguments: arguments, kind: kind))
        }
        let order = ["kubelet", "kubelite", "k3s"]
        let process = found.min { (order.firstIndex(of: $0.kind)!, $0.pid) < (order.firstIndex(of: $1.kind)!, $1.pid) }
        return Search(process: process, ignored: ignored)
    }

    /// Why process `pid` is not trusted as the kubelet; nil when it is: root runs it (real and
    /// effective uid 0) from a root-owned program file that neither its group nor others can write.
    static func distrust(pid: Int32, proc: String) -> String? {
        guard let status = try? PrivateFile.read("\(proc)/\(pid)/status") else { return "its /proc/\(pid)/status cannot be read" }
        let uidLine = String(decoding: status, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("Uid:") }
        let uids = uidLine.map { $0.dropFirst(4).split(whereSeparator: { $0 == " " || $0 == "\t" }).map { UInt32($0) } } ?? []
        guard uids.count >= 2, let real = uids[0], let effective = uids[1] else { return "its uid cannot be read" }
        if real != 0 { return "its real uid is \(real), not root" }
        if effective != 0 { return "its effective uid is \(effective), not root" }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("\(proc)/\(pid)/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return "its program (/proc/\(pid)/exe) cannot be read" }
        var program = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if program.hasSuffix(" (deleted)") { return "its program \(TerminalText.printable(program, limit: 200)) was deleted" }
        program = TerminalText.printable(program, limit: 200)
        var info = stat()
        guard stat("\(proc)/\(pid)/exe", &info) == 0 else { return "its program \(program) cannot be examined" }
        if info.st_uid != 0 { return "its program \(program) is owned by uid \(info.st_uid), not root" }
        if info.st_mode & S_IWOTH != 0 { return "its program \(program) is writable by every user" }
        if info.st_mode & S_IWGRP != 0, info.st_gid != 0 { return "its program \(program) is writable by group \(info.st_gid)" }
        return nil
    }

    /// The environment of process `pid` (`/proc/PID/environ`); nil when it cannot be read (not root).
    package static func environment(of pid: Int32, proc: String = "/proc") -> [String: String]? {
        guard let bytes = try? PrivateFile.read("\(proc)/\(pid)/environ") else { return nil }
        var variables: [String: String] = [:]
        for entry in bytes.split(separator: 0) {
            guard let equals = entry.firstIndex(of: UInt8(ascii: "=")), equals > entry.startIndex else { continue }
            variables[String(decoding: entry[..<equals], as: UTF8.self)] = String(decoding: entry[(equals + 1)...], as: UTF8.self)
        }
        return variables
    }

    static func fromProcess(_ process: Process) -> KubeletFlags? {
        let shown = "the running \(process.kind) (pid \(process.pid): \(TerminalText.printable(process.arguments[0], limit: 120)))"
        switch process.kind {
        case "kubelite":
            // MicroK8s: kubelite --kubelet-args-file=.../args/kubelet
            let file = value(of: "kubelet-args-file", in: process.arguments) ?? microk8sArguments
            return fromArgumentsFile(file, source: "\(file) (MicroK8s), read by \(shown)")
        case "k3s":
            // Its own --kubelet-arg flags come after the config files' (the command line wins).
            let given = values(of: "kubelet-arg", in: process.arguments)
            return fromK3s(commandLine: given, ownFlags: process.arguments, shown: shown)
        default:
            let found = flags(in: process.arguments)
            // A kubelet without the flags runs no credential provider at all: that is the answer.
            return KubeletFlags(config: found.config, binDirectory: found.binDirectory, source: shown)
        }
    }

    // MARK: files

    /// Flags from systemd environment files: each `NAME=VALUE` line's value (unquoted), split on
    /// white space as systemd splits an unquoted `$NAME` in `ExecStart`; later files win.
    static func fromEnvironmentFiles(_ paths: [String], source: String) -> KubeletFlags? {
        var words: [String] = []
        var read: [String] = []
        for path in paths {
            guard let bytes = try? PrivateFile.read(path) else { continue }
            read.append(path)
            for (_, value) in environmentFile(String(decoding: bytes, as: UTF8.self)) {
                words += value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
            }
        }
        guard !read.isEmpty else { return nil }
        let found = flags(in: words)
        guard found.config != nil || found.binDirectory != nil else { return nil }
        return KubeletFlags(config: found.config, binDirectory: found.binDirectory,
                            source: source == "kubeadm" ? read.joined(separator: " and ") + " (kubeadm)" : source)
    }

    /// The assignments of a systemd `EnvironmentFile`: `#` and `;` comment lines, an optional
    /// `export `, values in double quotes (with `\"`, `\\`, `\n` escapes) or single quotes, or bare
    /// (trailing white space dropped, a backslash at the end of a line joining the next).
    static func environmentFile(_ text: String) -> [(String, String)] {
        var assignments: [(String, String)] = []
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)[...]
        while let raw = lines.popFirst() {
            var line = Substring(raw.trimmingASCIIWhitespace())
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("export ") { line = line.dropFirst(7).drop { $0 == " " } }
            guard let equals = line.firstIndex(of: "=") else { continue }
            let name = String(line[..<equals]).trimmingASCIIWhitespace()
            var rest = Substring(String(line[line.index(after: equals)...]).trimmingASCIIWhitespace())
            var value = ""
            if let quote = rest.first, quote == "\"" || quote == "'" {
                rest = rest.dropFirst()
                var closed = false
                while !closed {
                    var iterator = rest.makeIterator()
                    while let character = iterator.next() {
                        if character == quote { closed = true; break }
                        if character == "\\" && quote == "\"", let next = iterator.next() {
                            value.append(next == "n" ? "\n" : next)
                        } else {
                            value.append(character)
                        }
                    }
                    if closed { break }
                    // A quoted value goes on over the next line.
                    guard let next = lines.popFirst() else { break }
                    value.append("\n")
                    rest = Substring(next)
                }
            } else {
                var bare = String(rest)
                while bare.hasSuffix("\\"), let next = lines.popFirst() {
                    bare = bare.dropLast().trimmingASCIIWhitespace() + " " + next.trimmingASCIIWhitespace()
                }
                value = bare
            }
            assignments.append((name, value))
        }
        return assignments
    }

    /// Flags from a file of one or more flags a line (MicroK8s's args files): `#` comments,
    /// `--flag=value` or `--flag value`, values unquoted, `${SNAP_COMMON}`, `${SNAP_DATA}` and `${SNAP}` expanded.
    static func fromArgumentsFile(_ path: String, source: String) -> KubeletFlags? {
        guard let bytes = try? PrivateFile.read(path) else { return nil }
        var words: [String] = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let text = line.trimmingASCIIWhitespace()
            guard !text.isEmpty, !text.hasPrefix("#") else { continue }
            let expanded = expandingSnapVariables(text)
            words += (try? CommandLineWords.split(expanded)) ?? expanded.split(separator: " ").map(String.init)
        }
        let found = flags(in: words)
        return KubeletFlags(config: found.config, binDirectory: found.binDirectory, source: source)
    }

    /// `text` with `${NAME}` and `$NAME` of the snap variables replaced, a bare `$NAME` only where
    /// the name ends there (`$SNAP_COMMONX` is another variable, left as it is).
    static func expandingSnapVariables(_ text: String) -> String {
        var output = ""
        var rest = Substring(text)
        scan: while let dollar = rest.firstIndex(of: "$") {
            output += rest[..<dollar]
            let after = rest[rest.index(after: dollar)...]
            let braced = after.first == "{"
            let nameStart = braced ? after.index(after: after.startIndex) : after.startIndex
            let name = after[nameStart...].prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
            if let value = snapVariables.first(where: { $0.0 == name })?.1 {
                if braced, name.endIndex < after.endIndex, after[name.endIndex] == "}" {
                    output += value
                    rest = after[after.index(after: name.endIndex)...]
                    continue scan
                } else if !braced {
                    output += value
                    rest = after[name.endIndex...]
                    continue scan
                }
            }
            output += "$"
            rest = after
        }
        return output + rest
    }

    /// k3s: `kubelet-arg` (a list or one string; `kubelet-arg+` in a later file appends) and its
    /// own `image-credential-provider-config`/`-bin-dir` keys in config.yaml, then the drop-ins in
    /// name order, then the command line; the paths k3s passes by default otherwise.
    static func fromK3s(commandLine: [String] = [], ownFlags: [String] = [], shown: String? = nil) -> KubeletFlags? {
        let directory = k3sConfig + ".d"
        let dropIns = ((try? PrivateFile.names(in: directory)) ?? []).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
            .sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }.map { "\(directory)/\($0)" }
        var kubeletArguments: [String] = []
        var own: (config: String?, binDirectory: String?) = (nil, nil)
        var read: [String] = []
        var problems: [String] = []
        for path in [k3sConfig] + dropIns {
            guard let bytes = try? PrivateFile.read(path) else { continue }
            let document: JSONDocument
            do {
                document = try YAMLReader(parsing: bytes).document
            } catch {
                problems.append("\(path): \(error)")
                continue
            }
            guard let members = document.members else { continue }
            read.append(path)
            for (key, value) in members {
                let words: [String]
                switch value {
                case .array(let items): words = items.compactMap(\.stringValue)
                case .string(let text): words = [text]
                default: words = []
                }
                switch key {
                case "kubelet-arg": kubeletArguments = words
                case "kubelet-arg+": kubeletArguments += words
                case "image-credential-provider-config": own.config = words.first
                case "image-credential-provider-bin-dir": own.binDirectory = words.first
                default: break
                }
            }
        }
        guard shown != nil || !read.isEmpty || !problems.isEmpty else { return nil }
        let ownCommandLine = flags(in: ownFlags)
        let fromArguments = flags(in: (kubeletArguments + commandLine).map { $0.hasPrefix("-") ? $0 : "--" + $0 })
        let source = (shown.map { "\($0) with " } ?? "") + (read.isEmpty ? "k3s's defaults" : read.joined(separator: ", ") + " (k3s)")
        var flags = KubeletFlags(
            config: fromArguments.config ?? ownCommandLine.config ?? own.config ?? k3sDefaults.config,
            binDirectory: fromArguments.binDirectory ?? ownCommandLine.binDirectory ?? own.binDirectory ?? k3sDefaults.binDirectory,
            source: source)
        flags.problems = problems
        return flags
    }

    /// The paths the EKS AMIs' kubelet unit passes, when their config file is there.
    static func fromEKSDefaults() -> KubeletFlags? {
        guard (try? PrivateFile.read(eksConfig)) != nil else { return nil }
        return KubeletFlags(config: eksConfig, binDirectory: "/etc/eks/image-credential-provider",
                            source: "\(eksConfig) (the EKS AMI's paths)")
    }

    // MARK: flags

    /// The two flags in `words`, as Go's flag package reads them: `--name=value`, `--name value`,
    /// one dash or two; the last occurrence wins.
    package static func flags(in words: [String]) -> (config: String?, binDirectory: String?) {
        (value(of: "image-credential-provider-config", in: words), value(of: "image-credential-provider-bin-dir", in: words))
    }

    static func value(of name: String, in words: [String]) -> String? {
        values(of: name, in: words).last
    }

    static func values(of name: String, in words: [String]) -> [String] {
        var found: [String] = []
        var index = 0
        while index < words.count {
            let word = words[index]
            index += 1
            if word == "--" { break }
            for dashes in ["--", "-"] where word.hasPrefix(dashes + name) {
                let rest = word.dropFirst(dashes.count + name.count)
                if rest.hasPrefix("=") {
                    found.append(String(rest.dropFirst()))
                } else if rest.isEmpty, index < words.count {
                    found.append(words[index])
                    index += 1
                }
                break
            }
        }
        return found
    }
}
