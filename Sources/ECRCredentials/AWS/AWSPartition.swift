// AWS partitions: DNS suffixes and the endpoints of the services this tool calls.

/// An AWS partition (aws, aws-cn, aws-us-gov, the isolated regions, the European sovereign cloud).
public struct AWSPartition: Hashable, Sendable {
    /// The partition id, such as `aws` or `aws-cn`.
    public var id: String
    /// The DNS suffix of regional endpoints, such as `amazonaws.com`.
    public var dnsSuffix: String
    /// The DNS suffix of dual-stack endpoints (`api.aws`), where the partition has them.
    public var dualStackSuffix: String?
    /// The suffix of dual-stack ECR registry hosts (`on.aws`), where the partition has them.
    public var registryDualStackSuffix: String?

    /// aws: the commercial regions.
    public static let aws = AWSPartition(id: "aws", dnsSuffix: "amazonaws.com", dualStackSuffix: "api.aws",
                                         registryDualStackSuffix: "on.aws")
    /// aws-us-gov: GovCloud (US). Same suffixes as `aws`; told apart by region.
    public static let awsUSGov = AWSPartition(id: "aws-us-gov", dnsSuffix: "amazonaws.com", dualStackSuffix: "api.aws",
                                              registryDualStackSuffix: "on.aws")
    /// aws-cn: the China regions.
    public static let awsChina = AWSPartition(id: "aws-cn", dnsSuffix: "amazonaws.com.cn",
                                              dualStackSuffix: "api.amazonwebservices.com.cn",
                                              registryDualStackSuffix: "on.amazonwebservices.com.cn")
    /// aws-iso (C2S).
    public static let awsISO = AWSPartition(id: "aws-iso", dnsSuffix: "c2s.ic.gov")
    /// aws-iso-b (SC2S).
    public static let awsISOB = AWSPartition(id: "aws-iso-b", dnsSuffix: "sc2s.sgov.gov")
    /// aws-iso-e.
    public static let awsISOE = AWSPartition(id: "aws-iso-e", dnsSuffix: "cloud.adc-e.uk")
    /// aws-iso-f.
    public static let awsISOF = AWSPartition(id: "aws-iso-f", dnsSuffix: "csp.hci.ic.gov")
    /// aws-eusc: the AWS European Sovereign Cloud.
    public static let awsEUSC = AWSPartition(id: "aws-eusc", dnsSuffix: "amazonaws.eu")

    /// Every partition, most common first.
    public static let all: [AWSPartition] = [.aws, .awsUSGov, .awsChina, .awsISO, .awsISOB, .awsISOE, .awsISOF, .awsEUSC]

    /// The partition of a region, from its name's prefix; `aws` for anything unrecognised.
    public static func of(region: String) -> AWSPartition {
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
    public func ecrAPIHost(region: String, fips: Bool, dualStack: Bool) -> String {
        if dualStack, let dualStackSuffix {
            return fips ? "ecr-fips.\(region).\(dualStackSuffix)" : "ecr.\(region).\(dualStackSuffix)"
        }
        return fips ? "ecr-fips.\(region).\(dnsSuffix)" : "api.ecr.\(region).\(dnsSuffix)"
    }

    /// The regional STS host; `sts.amazonaws.com` (signed for us-east-1) when no region is known.
    public func stsHost(region: String?) -> String {
        guard let region else { return "sts.amazonaws.com" }
        return "sts.\(region).\(dnsSuffix)"
    }
}
