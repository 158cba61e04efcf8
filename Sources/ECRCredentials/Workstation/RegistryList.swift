// Which ECR registries `configure` sets up: named hosts, accounts by regions, or the current identity's.

/// Turns what a user typed (hosts, accounts and regions) into ECR registry hosts, refusing
/// anything that is not one with the nearest valid form.
package enum RegistryList {
    /// A host or account that is not usable.
    package struct Invalid: Error, Sendable, CustomStringConvertible {
        /// What was given.
        package var input: String
        /// Why it is refused, with the nearest valid form where one can be guessed.
        package var reason: String
        /// For example "\"123456789012.dkr.ecr.us-east-1\" is not an ECR registry host; did you mean ...?".
        package var description: String { "\"\(TerminalText.printable(input, limit: 100))\" \(reason)" }
    }

    /// The registry host of `input` (`host`, `https://host/path`, an image reference).
    /// - Throws: `Invalid` for anything that is not an ECR registry.
    package static func host(_ input: String) throws -> String {
        guard let address = try? RegistryAddress(parsing: input), let registry = ECRRegistry(address: address) else {
            throw Invalid(input: input, reason: "is not an ECR registry host" + (suggestion(for: input).map { "; did you mean \($0)?" } ?? ""))
        }
        return registry.host
    }

    /// `ACCOUNT.dkr.ecr.REGION.<partition suffix>` for every account and region.
    /// - Throws: `Invalid` for an account that is not 12 digits or a region that is not one.
    package static func hosts(accounts: [String], regions: [String]) throws -> [String] {
        for account in accounts where !(account.count == 12 && account.allSatisfy { $0.isASCII && $0.isNumber }) {
            throw Invalid(input: account, reason: "is not an AWS account id (12 digits)")
        }
        var hosts: [String] = []
        for account in accounts {
            for region in regions {
                let host = "\(account).dkr.ecr.\(region).\(AWSPartition.of(region: region).dnsSuffix)"
                guard ECRRegistry(host: host) != nil else { throw Invalid(input: region, reason: "is not an AWS region name") }
                hosts.append(host)
            }
        }
        return hosts
    }

    /// The nearest valid registry host for a near miss: an account and a region without the
    /// rest, an `api.ecr` endpoint, a missing suffix.
    static func suggestion(for input: String) -> String? {
        let labels = input.lowercased().split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "-") }).map(String.init)
        guard let account = labels.first(where: { $0.count == 12 && $0.allSatisfy(\.isNumber) }),
              let region = labels.first(where: { Self.looksLikeRegion($0) })
        else { return nil }
        let host = "\(account).dkr.ecr.\(region).\(AWSPartition.of(region: region).dnsSuffix)"
        return ECRRegistry(host: host) != nil ? host : nil
    }

    static func looksLikeRegion(_ label: String) -> Bool {
        let parts = label.split(separator: "-")
        return parts.count >= 3 && parts.last.map { $0.allSatisfy(\.isNumber) } == true && parts[0].allSatisfy(\.isLetter)
    }

    /// The regions the user's configuration names: `AWS_REGION`, `AWS_DEFAULT_REGION`, and the
    /// `region` of every profile in the AWS config files, each once, in that order.
    package static func configuredRegions(environment: Environment, configuration: AWSConfiguration?) -> [String] {
        var regions: [String] = []
        func add(_ region: String?) {
            if let region, !region.isEmpty, looksLikeRegion(region), !regions.contains(region) { regions.append(region) }
        }
        add(environment["AWS_REGION"])
        add(environment["AWS_DEFAULT_REGION"])
        for file in [configuration?.configFile, configuration?.credentialsFile].compactMap({ $0 }) {
            for section in file.sections { add(section.values["region"]) }
        }
        return regions
    }
}
