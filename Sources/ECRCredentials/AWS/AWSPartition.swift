// AWS partitions: DNS suffixes and the endpoints of the services this tool calls.

/// An AWS partition (aws, aws-cn, aws-us-gov, the isolated regions, the European sovereign cloud).
public struct AWSPartition: Hashable, Sendable {
    /// The partition id, such as `aws` or `aws-cn`.
    public var id: String
    /// The DNS suffix of regional endpoints, such as `amazonaws.com`.
    package var dnsSuffix: String
    /// The DNS suffix of dual-stack endpoints (`api.aws`), where the partition has them.
    package var dualStackSuffix: String?
    /// The suffix of dual-stack ECR registry hosts (`on.aws`), where the partition has them.
    package var registryDualStackSuffix: String?

    /// aws: the commercial regions.
    package static let aws = AWSPartition(id: "aws", dnsSuffix: "amazonaws.com", dualStackSuffix: "api.aws",
                                         registryDualStackSuffix: "on.aws")
    /// aws-us-gov: GovCloud (US). Same suffixes as `aws`; told apart by region.
    package static let awsUSGov = AWSPartition(id: "aws-us-gov", dnsSuffix: "amazonaws.com", dualStackSuffix: "api.aws",
                                              registryDualStackSuffix: "on.aws")
    /// aws-cn: the China regions.
    package static let awsChina = AWSPartition(id: "aws-cn", dnsSuffix: "amazonaws.com.cn",
                                              dualStackSuffix: "api.amazonwebservices.com.cn",
                                              registryDualStackSuffix: "on.amazonwebservices.com.cn")
    /// aws-iso (C2S).
    package static let awsISO = AWSPartition(id: "aws-iso", dnsSuffix: "c2s.ic.gov")
    /// aws-iso-b (SC2S).
    package static let awsISOB = AWSPartition(id: "aws-iso-b", dnsSuffix: "sc2s.sgov.gov")
    /// aws-iso-e.
    package static let awsISOE = AWSPartition(id: "aws-iso-e", dnsSuffix: "cloud.adc-e.uk")
    /// aws-iso-f.
    package static let awsISOF = AWSPartition(id: "aws-iso-f", dnsSuffix: "csp.hci.ic.gov")
    /// aws-eusc: the AWS European Sovereign Cloud.
    package static let awsEUSC = AWSPartition(id: "aws-eusc", dnsSuffix: "amazonaws.eu")

    /// Every partition, most common first.
    package static let all: [AWSPartition] = [.aws, .awsUSGov, .awsChina, .awsISO, .awsISOB, .awsISOE, .awsISOF, .awsEUSC]

    /// The partition of a region, from its name's prefix; `aws` for anything unrecognised.
    package static func of(region: String) -> AWSPartition {
        if region.hasPrefix("us-gov-") { return .awsUSGov }
        if region.hasPrefix("cn-") { return .awsChina }
        if region.hasPrefix("us-isob-") { return .awsISOB }
        if region.hasPrefix("us-isof-") { return .awsISOF }
        if region.hasPrefix("us-iso-") { return .awsISO }
        if region.hasPrefix("eu-isoe-") { return .awsISOE }
        if region.hasPrefix("eusc-") { return .awsEUSC }
        return .aws
    }

    /// The ECR API host for a region of this partition.
    ///
    /// FIPS hosts follow the AWS General Reference (`ecr-fips.<region>.amazonaws.com`); AWS's
    /// endpoint rules name `api.ecr-fips.<region>...` instead. Both are kept here, in one place,
    /// and `AWS_ENDPOINT_URL_ECR` overrides either.
    package func ecrAPIHost(region: String, fips: Bool, dualStack: Bool) -> String {
        if dualStack, let dualStackSuffix {
            return fips ? "ecr-fips.\(region).\(dualStackSuffix)" : "ecr.\(region).\(dualStackSuffix)"
        }
        return fips ? "ecr-fips.\(region).\(dnsSuffix)" : "api.ecr.\(region).\(dnsSuffix)"
    }

    /// The regional STS host; `sts.amazonaws.com` (signed for us-east-1) when no region is known.
    package func stsHost(region: String?) -> String {
        guard let region else { return "sts.amazonaws.com" }
        return "sts.\(region).\(dnsSuffix)"
    }
}
