// Timestamps, percent-encoding and child processes.
import ECRCredentials
import Foundation
import Testing

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2015-08-30T12:36:00Z", 1_440_938_160.0), ("2015-08-30T12:36:00.250Z", 1_440_938_160.25),
        ("2015-08-30T14:36:00+02:00", 1_440_938_160.0), ("2015-08-30T12:36:00UTC", 1_440_938_160.0),
        ("2015-08-30 12:36:00Z", 1_440_938_160.0), ("2015-08-30T07:36:00-0500", 1_440_938_160.0),
    ])
    func parses(text: String, seconds: Double) throws {
        #expect(try #require(Timestamp.parseISO8601(text)).timeIntervalSince1970 == seconds)
    }

    @Test(arguments: ["", "soon", "2015-13-01T00:00:00Z", "2015-08-30", "2015-08-30T12:36Z", "2015-08-30T12:36:00.Z", "2015-08-30T12:36:00+2"])
    func refuses(text: String) {
        #expect(Timestamp.parseISO8601(text) == nil)
    }

    @Test func formats() {
        let date = Timestamp(timeIntervalSince1970: 1_440_938_160.9)
        #expect(Timestamp.amzDate(date) == "20150830T123600Z")
        #expect(Timestamp.iso8601(date) == "2015-08-30T12:36:00Z")
    }
}

@Suite struct ChildProcessTests {
    @Test func collectsOutputErrorsAndStatus() throws {
        let result = try ChildProcess.run(["sh", "-c", "printf out; printf err >&2; exit 3"], environment: ["PATH": "/usr/bin:/bin"], timeout: 5)
        #expect(String(decoding: result.output, as: UTF8.self) == "out")
        #expect(String(decoding: result.errors, as: UTF8.self) == "err")
        #expect(result.status == 3 && !result.timedOut)
    }

    @Test func stopsAProgramThatTakesTooLong() throws {
        let started = Date()
        let result = try ChildProcess.run(["sleep", "10"], environment: ["PATH": "/usr/bin:/bin"], timeout: 0.3)
        #expect(result.timedOut)
        #expect(Date().timeIntervalSince(started) < 2)
    }

    @Test func passesOnlyTheGivenEnvironment() throws {
        let result = try ChildProcess.run(["sh", "-c", "echo \"$ONLY:$HOME\""], environment: ["PATH": "/usr/bin:/bin", "ONLY": "this"], timeout: 5)
        #expect(String(decoding: result.output, as: UTF8.self) == "this:\n")
    }

    @Test func aMissingProgramIsALaunchFailure() {
        #expect(throws: ChildProcess.LaunchFailure.self) {
            try ChildProcess.run(["/nonexistent/program"], environment: [:], timeout: 1)
        }
    }
}

@Suite struct FileLockTests {
    @Test func waitingIsBoundedAndTheLockIsFreedWithItsOwner() throws {
        let scratch = try TemporaryDirectory()
        let path = scratch.path + "/registry.lock"
        var holder: FileLock? = try FileLock(path: path, timeout: 1)
        let started = Date()
        #expect {
            _ = try FileLock(path: path, timeout: 0.2)
        } throws: { error in
            (error as? FileLock.TimedOut)?.path == path
        }
        let waited = Date().timeIntervalSince(started)
        #expect(waited >= 0.2 && waited < 1)
        withExtendedLifetime(holder) {}
        holder = nil
        #expect(throws: Never.self) { _ = try FileLock(path: path, timeout: 0.1) }
        #expect(try scratch.mode(of: "registry.lock") == 0o600)
    }

    @Test func theWaitIsMeasuredOnTheInjectedClock() throws {
        let scratch = try TemporaryDirectory()
        let path = scratch.path + "/registry.lock"
        let holder = try FileLock(path: path, timeout: 1)
        let clock = ManualClock()
        let failure = try #require(throws: FileLock.TimedOut.self) { _ = try FileLock(path: path, timeout: 30, clock: clock) }
        #expect(abs(failure.waited - 30) < 1e-9)
        // Backoff from 1 ms doubling to 20 ms: about 1 500 tries in 30 simulated seconds, none longer than 20 ms.
        #expect(abs(clock.slept.reduce(0, +) - 30) < 1e-9)
        #expect(clock.slept.allSatisfy { $0 <= 0.02 })
        withExtendedLifetime(holder) {}
    }
}

@Suite struct LogFileTests {
    @Test func linesAreStampedPrivateAndRotatedAtTheLimit() throws {
        let scratch = try TemporaryDirectory()
        let log = LogFile(path: scratch.path + "/state/docker-credential-ecr/log", maximumSize: 300, ownsDirectory: true)
        for number in 0..<10 { try log.append("line \(number) of the log\n") }
        let current = try String(contentsOfFile: log.path, encoding: .utf8)
        let previous = try String(contentsOfFile: log.path + ".1", encoding: .utf8)
        #expect(current.utf8.count <= 300 && previous.utf8.count <= 300)
        #expect(current.hasSuffix("line 9 of the log\n"))
        #expect((previous + current).split(separator: "\n").count >= 5)
        #expect(current.split(separator: "\n").allSatisfy { $0.contains("Z [") && $0.contains("] line ") })
        #expect(try scratch.mode(of: "state/docker-credential-ecr") == 0o700)
        #expect(try scratch.mode(of: "state/docker-credential-ecr/log") == 0o600)
    }

    @Test func aDirectoryAtTheRotatedNameEmptiesTheLogRatherThanGrowIt() throws {
        let scratch = try TemporaryDirectory()
        let log = LogFile(path: scratch.path + "/log", maximumSize: 1000)
        try FileManager.default.createDirectory(atPath: log.path + ".1", withIntermediateDirectories: false)
        try "someone else's\n".write(toFile: log.path + ".1/kept", atomically: false, encoding: .utf8)
        var failures: [LogFile.RotationFailure] = []
        for number in 0..<60 {
            if let failure = try log.append("line \(number) of the log\n") { failures.append(failure) }
            let size = try #require(FileManager.default.attributesOfItem(atPath: log.path)[.size] as? Int)
            #expect(size <= 1000)
        }
        // Once per filling of the log, not once per line: 60 lines of about 50 bytes fill it 2 to 4 times.
        #expect((2...4).contains(failures.count))
        #expect(failures.first?.description == "cannot rotate the log \(log.path): \(log.path).1 is a directory; the log was emptied "
                + "instead, to keep it under 1000 bytes; remove or rename \(log.path).1 so that the previous lines are kept")
        let text = try String(contentsOfFile: log.path, encoding: .utf8)
        #expect(text.split(separator: "\n").first?.hasSuffix("] " + (failures.first?.description ?? "")) == true)
        #expect(text.hasSuffix("line 59 of the log\n"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: log.path + ".1") == ["kept"])
        #expect(try String(contentsOfFile: log.path + ".1/kept", encoding: .utf8) == "someone else's\n")
        #expect(try scratch.mode(of: "log") == 0o600)
    }

    @Test func aLineLongerThanTheWholeLogIsCutToFit() throws {
        let scratch = try TemporaryDirectory()
        let log = LogFile(path: scratch.path + "/log", maximumSize: 100)
        try log.append(String(repeating: "é", count: 200) + "\n")
        let bytes = try #require(FileManager.default.contents(atPath: log.path))
        #expect(bytes.count <= 100 && bytes.last == 0x0a)
        #expect(String(data: bytes, encoding: .utf8)?.hasSuffix("éé\n") == true)  // cut between characters
    }

    @Test func aLogThatIsALinkIsNeverWrittenThrough() throws {
        let scratch = try TemporaryDirectory()
        try "precious\n".write(toFile: scratch.path + "/target", atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: scratch.path + "/log", withDestinationPath: scratch.path + "/target")
        #expect(throws: PrivateFile.Refusal.self) { try LogFile(path: scratch.path + "/log").append("planted?\n") }
        #expect(try String(contentsOfFile: scratch.path + "/target", encoding: .utf8) == "precious\n")
    }

    @Test func aNamedLogLeavesItsDirectoryAsItIsAndNarrowsAnOpenFile() throws {
        let scratch = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: scratch.path + "/shared", withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o1777])
        try "old\n".write(toFile: scratch.path + "/shared/log", atomically: false, encoding: .utf8)
        chmod(scratch.path + "/shared/log", 0o666)
        try LogFile(path: scratch.path + "/shared/log").append("new\n")
        var info = stat()
        #expect(stat(scratch.path + "/shared", &info) == 0 && info.st_mode & 0o7777 == 0o1777)  // not narrowed, still sticky
        #expect(try scratch.mode(of: "shared/log") == 0o600)
        #expect(throws: (any Error).self) { try LogFile(path: scratch.path + "/missing/log").append("x\n") }
        #expect(throws: PrivateFile.Refusal.self) { try LogFile(path: "relative/log").append("x\n") }
    }
}
