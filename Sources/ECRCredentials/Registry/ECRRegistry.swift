// Amazon ECR registries: private registries in every partition, and ECR Public.

/// An Amazon ECR registry recognised from its host name.
///
/// Private registries are `<12-digit account>.dkr.ecr[-fips].<region>.<suffix>` and the
/// dual-stack `...dkr-ecr[-fips].<region>.on.aws` forms; ECR Public is `public.ecr.aws` or
/// `ecr-public.aws.com`. Anything else, including look-alikes such as
/// `123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example`, is not ECR.
public struct ECRRegistry: Hashable, Sendable, CustomStringConvertible {
    /// Private or public.
    public enum Kind: Hashable, Sendable {
        /// A private registry of an account.
        case privateRegistry(accountID: String)
        /// ECR Public, always authenticated in us-east-1.
        case publicRegistry
    }

    /// The registry host, lower case, without port.
    public var host: String
    /// Private (with its account) or public.
    public var kind: Kind
    /// The region whose ECR API issues tokens for it.
    public var region: String
    /// The partition of that region.
    public var partition: AWSPartition
    /// Whether the host is a FIPS endpoint (`dkr.ecr-fips`).
    public var fips: Bool
    /// Whether the host is a dual-stack (IPv6) endpoint (`dkr-ecr...on.aws`).
    public var dualStack: Bool

    /// The host.
    public var description: String { host }

    /// The account id of a private registry.
    public var accountID: String? {
        if case .privateRegistry(let accountID) = kind { return accountID }
        return nil
    }

    /// The ECR Public hosts, as a list, which a `get` searches: the first use of a `Set<String>`
    /// in a process looks up String's Hashable conformance at run time, a tenth of a cache hit.
    private static let publicHostList = ["public.ecr.aws", "ecr-public.aws.com"]

    /// Recognises an ECR registry from a client-supplied address; nil when it is not ECR.
    ///
    /// Ports other than 443 are not ECR: ECR registries serve HTTPS on 443 only.
    public init?(address: RegistryAddress) {
        if let port = address.port, port != 443 { return nil }
        self.init(host: address.host)
    }

    /// Recognises an ECR registry host (lower case, no port); nil when it is not ECR.
    public init?(host: String) {
        if Self.publicHostList.contains(host) {
            self.init(host: host, kind: .publicRegistry, region: "us-east-1", partition: .aws, fips: false, dualStack: false)
            return
        }
        // The labels are taken one at a time from the front (no array of them: a cache hit parses
        // a host, and an array of substrings is type metadata built at run time).
        var rest = host[...]
        func nextLabel() -> Substring? {
            guard let dot = rest.utf8.firstIndex(of: UInt8(ascii: ".")) else { return nil }
            let label = rest[..<dot]
            rest = rest[rest.utf8.index(after: dot)...]
            return label
        }
        guard let account = nextLabel(), account.utf8.count == 12, account.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let second = nextLabel() else { return nil }

        // Either "dkr" "ecr[-fips]" (regional) or "dkr-ecr[-fips]" (dual-stack) before the region.
        let service: Substring
        var dualStack = false
        if second == "dkr" {
            guard let label = nextLabel() else { return nil }
            service = label
        } else if second.hasPrefix("dkr-") {
            service = second.dropFirst(4)
            dualStack = true
        } else {
            return nil
        }
        let fips: Bool
        switch service {
        case "ecr": fips = false
        case "ecr-fips": fips = true
        default: return nil
        }
        // The region's label, then at least one more: the partition's suffix, whole.
        guard let regionLabel = nextLabel() else { return nil }
        let region = String(regionLabel)
        guard Self.isRegionName(region) else { return nil }
        let suffix = String(rest)

        let regionPartition = AWSPartition.of(region: region)
        let partition: AWSPartition
        if dualStack {
            guard let match = AWSPartition.all.first(where: { $0.registryDualStackSuffix == suffix }) else { return nil }
            partition = match.registryDualStackSuffix == regionPartition.registryDualStackSuffix ? regionPartition : match
        } else {
            guard let match = AWSPartition.all.first(where: { $0.dnsSuffix == suffix }) else { return nil }
            partition = match.dnsSuffix == regionPartition.dnsSuffix ? regionPartition : match
        }
        self.init(host: host, kind: .privateRegistry(accountID: String(account)), region: region,
                  partition: partition, fips: fips, dualStack: dualStack)
    }

    private init(host: String, kind: Kind, region: String, partition: AWSPartition, fips: Bool, dualStack: Bool) {
        self.host = host
        self.kind = kind
        self.region = region
        self.partition = partition
        self.fips = fips
        self.dualStack = dualStack
    }

    /// Whether `name` looks like an AWS region: lower-case words joined by `-`, ending in a number
    /// (`us-east-1`, `us-gov-west-1`, `eu-isoe-west-1`, `eusc-de-east-1`).
    package static func isRegionName(_ name: String) -> Bool {
        guard name.utf8.count <= 32 else { return false }
        // Words of a-z, each followed by "-", at least two of them; then 1-3 digits.
        var words = 0
        var length = 0
        var digits = 0
        for byte in name.utf8 {
            switch byte {
            case 0x61...0x7a where digits == 0:
                length += 1
            case UInt8(ascii: "-") where digits == 0 && length > 0:
                words += 1
                length = 0
            case 0x30...0x39 where length == 0 && words >= 2:
                digits += 1
            default:
                return false
            }
        }
        return digits >= 1 && digits <= 3
    }
}
