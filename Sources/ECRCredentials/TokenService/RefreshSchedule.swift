// When a cached token is refreshed: a point in its life fixed per machine and registry.

/// Where in its life a token is refreshed, so that a fleet started together does not refresh
/// together.
///
/// The point is drawn in `window` (40% to 60% of the life by default) from a hash of the
/// machine's identity and the registry: stable for one node, so it never flaps, and spread
/// across nodes, so a thousand nodes that fetched in the same second refresh a 12-hour token
/// over 2.4 hours instead. A token is never fresh at or after its expiry.
package struct RefreshSchedule: Sendable {
    /// The range of the drawn point, as fractions of the token's life.
    package var window: ClosedRange<Double>
    /// Whose point: the machine.
    package var machine: any MachineIdentity

    package init(window: ClosedRange<Double> = 0.4...0.6, machine: any MachineIdentity = SystemMachineIdentity()) {
        self.window = window
        self.machine = machine
    }

    /// The fraction of a token's life after which this machine refreshes `registry`'s token.
    package func fraction(registry: String) -> Double {
        let digest = Array(Digest.sha256(Array("docker-credential-ecr/refresh\0\(machine.name())\0\(registry)".utf8)))
        let draw = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let unit = Double(draw >> 11) / Double(1 << 53)
        return window.lowerBound + unit * (window.upperBound - window.lowerBound)
    }

    /// When (seconds since 1970) a token of `registry` issued at `issuedAt` and expiring at
    /// `expiresAt` is refreshed; nil for a token that never expires.
    package func refreshMoment(registry: String, issuedAt: Double, expiresAt: Double?) -> Double? {
        guard let expiresAt else { return nil }
        return issuedAt + fraction(registry: registry) * (expiresAt - issuedAt)
    }

    /// Whether `record` is still served without a refresh at `now`. Only a token between the
    /// window's bounds needs the machine's identity.
    package func isFresh(_ record: CredentialRecord, at now: Double) -> Bool {
        guard let expiresAt = record.expiresAt else { return true }
        guard now < expiresAt else { return false }
        let life = expiresAt - record.issuedAt
        if now < record.issuedAt + window.lowerBound * life { return true }
        if now >= record.issuedAt + window.upperBound * life { return false }
        return now < record.issuedAt + fraction(registry: record.registry) * life
    }
}
