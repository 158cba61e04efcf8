// The kernel tier's payload format: one key's bytes, written and read back.

extension KernelKeyringStore {
    /// The payload of a record written under `generation`; nil when a field other than the
    /// secret has a line break or it is longer than `payloadLimit`.
    static func payload(_ record: CredentialRecord, generation: Generation) -> [UInt8]? {
        let fields = [record.kind.rawValue, record.registry, record.identity, record.serverURL, record.username]
        guard !fields.contains(where: { $0.contains("\n") || $0.contains("\r") }) else { return nil }
        let lines = [payloadHeader, generation.text] + fields
            + [EpochSeconds.text(record.issuedAt), record.expiresAt.map(EpochSeconds.text) ?? "never"]
        let bytes = Array((lines.joined(separator: "\n") + "\n" + record.secret).utf8)
        return bytes.count <= payloadLimit ? bytes : nil
    }

    /// The entry a payload holds and its generation; nil for anything else (the payloads of
    /// earlier versions, which carry no generation, included).
    static func kept(from bytes: [UInt8]) -> Kept? {
        var lines: [String] = []
        var start = 0
        for index in bytes.indices where bytes[index] == 0x0A && lines.count < 9 {
            lines.append(String(decoding: bytes[start..<index], as: UTF8.self))
            start = index + 1
        }
        guard lines.first == payloadHeader, lines.count >= 4, let generation = Generation(text: lines[1]) else { return nil }
        if lines[2] == "none" {
            return lines.count == 4 && start == bytes.count ? Kept(generation: generation, entry: .noLogin(registry: lines[3])) : nil
        }
        guard lines.count == 9, let kind = CredentialRecord.Kind(rawValue: lines[2]),
              let issuedAt = EpochSeconds.parse(lines[7]),
              lines[8] == "never" || EpochSeconds.parse(lines[8]) != nil
        else { return nil }
        let secret = String(decoding: bytes[start...], as: UTF8.self)
        let record = CredentialRecord(kind: kind, registry: lines[3], serverURL: lines[5], identity: lines[4], username: lines[6],
                                      secret: secret, issuedAt: issuedAt, expiresAt: lines[8] == "never" ? nil : EpochSeconds.parse(lines[8]))
        return Kept(generation: generation, entry: .record(record))
    }
}
