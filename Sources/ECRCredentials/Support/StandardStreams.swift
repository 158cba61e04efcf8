// Standard input and output as bytes, shared by the executables.
import CFileSystem

#if canImport(Glibc)
import Glibc
#endif

/// Standard input and output of the process, as bytes: what every front end reads and answers.
package enum StandardStreams {
    /// The most a client sends: a server URL or a small JSON document.
    package static let inputLimit = 1 << 20

    /// Reads all of stdin, up to `inputLimit` bytes.
    /// - Throws: `SystemError` when stdin cannot be read or holds more than `inputLimit` bytes.
    package static func readInput() throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count <= inputLimit {
            let count = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError.current("read", path: "standard input")
            }
            if count == 0 { return bytes }
            bytes.append(contentsOf: chunk[0..<count])
        }
        throw SystemError("read", path: "standard input", code: EFBIG)
    }

    /// Writes `text` to stdout completely.
    /// - Throws: `SystemError` when stdout is closed or full (the answer did not arrive, so the
    ///   caller must not report success).
    package static func writeOutput(_ text: String) throws {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
            if count < 0 && errno == EINTR { continue }
            if count < 0 { throw SystemError.current("write", path: "standard output") }
            if count == 0 { throw SystemError("write", path: "standard output", code: EIO) }
            offset += count
        }
    }

    /// Turns a closed pipe on stdout into a write error (`EPIPE`) instead of a silent death by
    /// SIGPIPE (status 141), so that the command says so and exits 1 like any other failed
    /// write. Child processes get the default disposition back (`ChildProcess`).
    package static func reportBrokenPipes() {
        signal(SIGPIPE, SIG_IGN)
    }

    /// Makes the process end with exit status 1, and a line on stderr, when what it printed
    /// through the C library's buffered stdout (help, usage lines, completion scripts: what the
    /// argument parser prints) could not all be written, to a full disk or a closed pipe. Call it
    /// once at start; the check runs at `exit` (`atexit`), where a lost answer would otherwise
    /// still exit 0.
    package static func failWhenBufferedOutputIsLost() {
        atexit {
            let code = cfilesystem_finish_stdout()
            guard code != 0 else { return }
            let program = CommandLine.arguments.first.flatMap { $0.split(separator: "/").last.map(String.init) } ?? "docker-credential-ecr"
            let line = "\(program): cannot write standard output: \(String(cString: strerror(code)))\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
            _exit(1)
        }
    }
}
