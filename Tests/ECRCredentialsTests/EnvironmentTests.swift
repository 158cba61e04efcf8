// The environment as a value: read from the process, looked up by name, handed on as a dictionary.
import ECRCredentials
import Foundation
import Testing

@Suite struct EnvironmentTests {
    @Test func currentReadsEveryVariableOfTheProcess() {
        let environment = Environment.current()
        let process = ProcessInfo.processInfo.environment
        #expect(!process.isEmpty)
        for (name, value) in process {
            #expect(environment[name] == (value.isEmpty ? nil : value), "\(name)")
        }
        #expect(environment.variables == process)
    }

    @Test func emptyAndMissingValuesAreNil() {
        let environment = Environment(["EMPTY": "", "SET": "x=y"])
        #expect(environment["EMPTY"] == nil)
        #expect(environment["MISSING"] == nil)
        #expect(environment["SET"] == "x=y")
        #expect(environment.variables == ["EMPTY": "", "SET": "x=y"])
    }

    @Test func namesAreComparedByteForByteAsGetenvDoes() {
        // The Kelvin sign is canonically equivalent to "K", and "\u{C5}" to "A\u{30A}": Swift's `==`
        // would take either for the other, the C library's getenv (and curl, and the AWS CLI) not.
        let environment = Environment(["DOC\u{212A}ER_CREDENTIAL_ECR_LOG": "debug", "\u{C5}_NAME": "composed"])
        #expect(environment["DOCKER_CREDENTIAL_ECR_LOG"] == nil)
        #expect(environment["DOC\u{212A}ER_CREDENTIAL_ECR_LOG"] == "debug")
        #expect(environment["A\u{30A}_NAME"] == nil)
        #expect(environment["\u{C5}_NAME"] == "composed")
    }

    @Test func variablesCanBeChangedInPlace() {
        var environment = Environment(["A": "1"])
        environment.variables["B"] = "2"
        environment.variables.merge(["A": "changed", "C": "3"]) { _, new in new }
        #expect(environment.variables == ["A": "changed", "B": "2", "C": "3"])
        #expect(environment["A"] == "changed")
        environment.variables = [:]
        #expect(environment["B"] == nil)
    }

    @Test(arguments: [("1", true), ("TRUE", true), ("yes", true), ("On", true), ("0", false), ("no", false), ("", false)])
    func trueLikeValues(value: String, expected: Bool) {
        #expect(Environment(["FLAG": value]).isTrue("FLAG") == expected)
    }

    @Test func homeAndXDGDirectories() {
        let environment = Environment(["HOME": "/home/u", "XDG_CACHE_HOME": "relative", "XDG_CONFIG_HOME": "/etc/u"])
        #expect(environment.cacheHome == "/home/u/.cache")
        #expect(environment.configHome == "/etc/u")
        #expect(environment.expandingTilde("~/x") == "/home/u/x")
    }
}
