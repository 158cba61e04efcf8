// Test doubles for the jitter and the machine identity.
import ECRCredentials
import Synchronization

/// Draws the given numbers in turn, then repeats the last one.
final class FixedRandom: RandomSource {
    private let state: Mutex<[Double]>

    init(_ values: Double...) {
        state = Mutex(values.isEmpty ? [0.5] : values)
    }

    func unitInterval() -> Double {
        state.withLock { $0.count > 1 ? $0.removeFirst() : $0[0] }
    }
}

/// A machine that counts how often its name is asked for.
final class CountingMachine: MachineIdentity {
    private let calls = Mutex(0)
    let value: String

    init(_ value: String) {
        self.value = value
    }

    var reads: Int { calls.withLock { $0 } }

    func name() -> String {
        calls.withLock { $0 += 1 }
        return value
    }
}
