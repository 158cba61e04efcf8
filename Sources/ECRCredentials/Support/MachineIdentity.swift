// Which machine this is, as a stable name: what spreads a fleet's refreshes apart.
#if canImport(Glibc)
import Glibc
#endif

/// A name that stays the same for one machine and differs between machines.
package protocol MachineIdentity: Sendable {
    /// The name; empty when none could be found.
    func name() -> String
}

/// This machine: `/etc/machine-id`, else the host name; read once per process, on first use.
package struct SystemMachineIdentity: MachineIdentity {
    /// Creates the identity.
    package init() {}

    /// The machine id or the host name.
    package func name() -> String { Self.cached }

    private static let cached: String = {
        if let bytes = try? PrivateFile.read("/etc/machine-id"), bytes.count <= 256 {
            let text = String(decoding: bytes, as: UTF8.self).trimmingASCIIWhitespace()
            if !text.isEmpty && text != "uninitialized" { return "machine-id:" + text }
        }
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "" }
        buffer[buffer.count - 1] = 0
        return "hostname:" + String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()
}

/// A fixed name, for tests and simulations of many machines.
package struct NamedMachine: MachineIdentity {
    /// The name.
    package var value: String

    /// Creates a machine named `value`.
    package init(_ value: String) {
        self.value = value
    }

    /// `value`.
    package func name() -> String { value }
}
