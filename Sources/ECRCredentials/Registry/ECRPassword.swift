// What an ECR registry password reveals about itself.

/// ECR registry passwords are base64 of a JSON document that includes an `expiration` time.
package enum ECRPassword {
    /// The expiry (seconds since 1970) inside an ECR password, or nil for any other password
    /// and for an expiry that is not a plausible time (see `EpochSeconds`).
    package static func expiration(of password: String) -> Double? {
        struct Envelope: Decodable { var expiration: Double }
        var padded = password
        while padded.utf8.count % 4 != 0 { padded += "=" }
        guard let data = Base64.decode(padded.utf8),
              let envelope = try? JSONInput.decode(Envelope.self, from: data)
        else { return nil }
        return EpochSeconds.validated(envelope.expiration)
    }
}
