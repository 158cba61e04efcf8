// What a registry check found, and the one table that turns each finding into a summary and a fix.

/// The request of a pull that an answer belongs to.
package enum PullStep: String, Sendable, Equatable {
    /// `GET /v2/`: does the registry take the token?
    case registry
    /// `HEAD`/`GET` of the manifest (or index) the tag or digest names.
    case manifest
    /// `GET` of the manifest an index lists for this machine's platform.
    case platformManifest = "platform-manifest"
    /// `GET` of the config blob, which ECR answers with a redirect.
    case configBlob = "config-blob"
    /// `GET` of the address that redirect named (the blob's download URL).
    case download
}

/// ECR's explanation of a 403 `DENIED`: "User: P is not authorized to perform: A on resource: R because ...".
package struct ECRDenial: Sendable, Equatable {
    /// Which policy said no, from the end of the message.
    package enum Cause: String, Sendable, Equatable {
        /// "because no identity-based policy allows ..."
        case noIdentityPolicy
        /// "with an explicit deny in an identity-based policy"
        case identityPolicyDenies
        /// "because no resource-based policy allows ..."
        case noResourcePolicy
        /// "with an explicit deny in a resource-based policy"
        case resourcePolicyDenies
        /// A service control policy, permissions boundary or session policy.
        case guardrail
        /// Not said.
        case unknown

        /// Whether the repository (or key) policy is where the fix goes.
        package var isResourcePolicy: Bool { self == .noResourcePolicy || self == .resourcePolicyDenies }
    }

    /// The principal's ARN, when the message names it.
    package var principal: String?
    /// The IAM action (`ecr:BatchGetImage`, `kms:Decrypt`), when the message names it.
    package var action: String?
    /// The resource's ARN, when the message names it.
    package var resource: String?
    /// Which policy said no.
    package var cause: Cause

    /// Creates a denial from its parts.
    package init(principal: String?, action: String?, resource: String?, cause: Cause) {
        self.principal = principal
        self.action = action
        self.resource = resource
        self.cause = cause
    }

    /// Reads ECR's message; every part it does not find is nil.
    package init(message: String) {
        func word(after marker: String) -> String? {
            guard let range = message.firstRange(ofText: marker) else { return nil }
            let value = message[range.upperBound...].prefix { $0 != " " && $0 != "," && $0 != "\"" }
            return value.isEmpty ? nil : String(value)
        }
        principal = word(after: "User: ")
        action = word(after: "perform: ")
        resource = word(after: "on resource: ")
        let tail = message.lowercased()
        if tail.containsText("explicit deny in a resource-based policy") {
            cause = .resourcePolicyDenies
        } else if tail.containsText("no resource-based policy allows") {
            cause = .noResourcePolicy
        } else if tail.containsText("explicit deny in an identity-based policy") {
            cause = .identityPolicyDenies
        } else if tail.containsText("no identity-based policy allows") {
            cause = .noIdentityPolicy
        } else if tail.containsText("service control policy") || tail.containsText("permissions boundary") || tail.containsText("session policy") {
            cause = .guardrail
        } else {
            cause = .unknown
        }
    }
}

/// What the pull-through cache rules say about a repository that does not exist.
package enum PullThroughRuleLookup: Sendable, Equatable {
    /// Not looked up (no rules reader, or the repository has a single component).
    case notChecked
    /// A rule's prefix covers the repository.
    case rule(PullThroughCacheRule)
    /// No rule has the repository's first component as its prefix; the prefixes there are.
    case noRule(prefix: String, prefixes: [String])
    /// The rules could not be read.
    case unreadable(String)
}

/// One finding of a registry check: which request, what came back, and what it means.
package struct PullFinding: Sendable {
    /// The rows of the hint table: each kind of answer a pull can meet.
    package enum Row: String, Sendable, Equatable, CaseIterable {
        /// Every step answered as a pull needs.
        case pulls
        /// 401: the registry does not take the token.
        case tokenRefused = "token-refused"
        /// 403 for `ecr:BatchGetImage` or `ecr:GetDownloadUrlForLayer` by the principal's own policies.
        case pullOnly = "pull-only"
        /// 403 for a read action by the repository policy.
        case repositoryPolicy = "repository-policy"
        /// 403 for `ecr:BatchImportUpstreamImage` or `ecr:CreateRepository`: a pull-through first pull.
        case pullThrough = "pull-through"
        /// 403 for `kms:Decrypt`: the repository's KMS key.
        case kmsKey = "kms-key"
        /// 403 for any other action.
        case otherAction = "other-action"
        /// 404 `NAME_UNKNOWN`.
        case noRepository = "no-repository"
        /// 404 `MANIFEST_UNKNOWN`.
        case noImage = "no-image"
        /// An index without a manifest for this machine's platform.
        case noPlatform = "no-platform"
        /// TLS failed.
        case tls
        /// A timeout.
        case timeout
        /// No connection (DNS, refused, proxy).
        case unreachable
        /// Any other answer (429, 5xx, a malformed manifest, a failed download).
        case unexpected
    }

    /// The row of the hint table.
    package var row: Row
    /// The request that decided it.
    package var step: PullStep
    /// The image asked for (the ECR image, after any mirror).
    package var image: ImageReference
    /// The HTTP status of that request, when one came back.
    package var httpStatus: Int?
    /// ECR's error code (`DENIED`, `NAME_UNKNOWN`, ...), when its body had one.
    package var errorCode: String?
    /// ECR's error message, when its body had one.
    package var errorMessage: String?
    /// The parsed denial of a 403.
    package var denial: ECRDenial?
    /// The transport failure, when no answer came.
    package var transportError: HTTPTransportError?
    /// What the rules say, for a missing repository.
    package var rules: PullThroughRuleLookup = .notChecked
    /// The registry whose token was used, when known (for a 401).
    package var tokenRegistry: ECRRegistry?
    /// What else was learnt on the way (the platform chosen, the download host), for details.
    package var notes: [String] = []

    /// Creates a finding.
    package init(row: Row, step: PullStep, image: ImageReference, httpStatus: Int? = nil, errorCode: String? = nil,
                errorMessage: String? = nil, denial: ECRDenial? = nil, transportError: HTTPTransportError? = nil) {
        self.row = row
        self.step = step
        self.image = image
        self.httpStatus = httpStatus
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.denial = denial
        self.transportError = transportError
    }

    /// The IAM action a 403 named.
    package var action: String? { denial?.action }

    /// Takes `secrets` (and AWS access key ids) out of everything the registry said: its error
    /// code and message, the denial read from it, and the notes.
    mutating func redact(_ secrets: [String]) {
        func clean(_ text: String) -> String { Self.accessKeyIDs(in: SecretRedaction.secrets(secrets, in: text)) }
        errorCode = errorCode.map(clean)
        errorMessage = errorMessage.map(clean)
        notes = notes.map(clean)
        if let found = denial {
            denial = ECRDenial(principal: found.principal.map(clean), action: found.action.map(clean),
                               resource: found.resource.map(clean), cause: found.cause)
        }
    }

    /// `text` with every AWS access key id (`AKIA`, `ASIA` and the other four-letter prefixes,
    /// then 16 upper-case letters and digits) replaced by `<redacted>`.
    static func accessKeyIDs(in text: String) -> String {
        let prefixes: Set<String> = ["AKIA", "ASIA", "AIDA", "AROA", "AGPA", "ANPA", "ANVA", "APKA", "ABIA", "ACCA"]
        let scalars = Array(text.unicodeScalars)
        guard scalars.count >= 20 else { return text }
        func isKeyScalar(_ scalar: Unicode.Scalar) -> Bool { ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) }
        var output = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            if index + 20 <= scalars.count, index == 0 || !isKeyScalar(scalars[index - 1]),
               prefixes.contains(String(String.UnicodeScalarView(scalars[index..<index + 4]))),
               scalars[index..<index + 20].allSatisfy(isKeyScalar), index + 20 == scalars.count || !isKeyScalar(scalars[index + 20]) {
                output.append(contentsOf: SecretRedaction.marker.unicodeScalars)
                index += 20
                continue
            }
            output.append(scalars[index])
            index += 1
        }
        return String(output)
    }

    /// Whether the image will pull.
    package var pulls: Bool { row == .pulls }

    /// The passing-failure hint the token and identity checks give too.
    package static let transientHint = "a passing failure (throttling, a 5xx answer, a timeout or an unreachable endpoint): try again; "
        + "check the network and proxies (HTTPS_PROXY)"

    /// The managed policy that grants every action of a pull.
    package static let pullOnlyPolicy = "AmazonEC2ContainerRegistryPullOnly"

    // MARK: the table

    /// One line: which request got which answer, with ECR's own message.
    package var summary: String {
        let what = "\(Self.stepName(step)) of \(image)"
        let answer = httpStatus.map { "HTTP \($0)" + (errorCode.map { " \(TerminalText.printable($0, limit: 100))" } ?? "") } ?? ""
        let quoted = errorMessage.map { ": \"\(Self.shown($0))\"" } ?? ""
        switch row {
        case .pulls:
            return "\(image) will pull: the registry took the token, and the manifest and config blob answered"
        case .tokenRefused:
            return "the registry refused the token at the \(what) (\(answer)\(quoted))"
        case .pullOnly, .repositoryPolicy, .pullThrough, .kmsKey, .otherAction:
            return "denied at the \(what) (\(answer)\(quoted))"
        case .noRepository:
            return "the repository \(image.repository) does not exist in \(image.address) (\(answer)\(quoted))"
        case .noImage:
            return "\(image.repository) has no image \(image.reference) (\(answer)\(quoted))"
        case .noPlatform:
            return "the index of \(image) lists no manifest for this machine's platform"
        case .tls, .timeout, .unreachable:
            return transportError.map { "\($0)" } ?? "no answer at the \(what)"
        case .unexpected:
            if let transportError, transportError.code == .responseTooLarge {
                return "the registry answered the \(what) with more than \(transportError.detail), more than a pull reads"
            }
            return "unexpected answer at the \(what)" + (answer.isEmpty ? "" : " (\(answer)\(quoted))")
        }
    }

    /// What to do; nil when the image pulls.
    package var hint: String? {
        let principal = denial?.principal ?? "the principal"
        let action = denial?.action ?? "the action ECR named"
        let registry = ECRRegistry(address: image.address)
        let repositoryARN = registry.flatMap { registry in
            registry.accountID.map { "arn:\(registry.partition.id):ecr:\(registry.region):\($0):repository/\(image.repository)" }
        } ?? "the repository"
        switch row {
        case .pulls:
            return nil
        case .tokenRefused:
            guard let registry, let tokenRegistry else {
                return "the token is not one this registry accepts: fetch a new one for \(image.address)"
            }
            if tokenRegistry.region != registry.region || tokenRegistry.partition != registry.partition {
                return "the token was issued for \(tokenRegistry.host) (region \(tokenRegistry.region)), but the image is in \(registry.host) "
                    + "(region \(registry.region)); ECR tokens work only in the region that issued them: get one for \(registry.host)"
            }
            return "the token was issued for \(tokenRegistry.host) (region \(tokenRegistry.region)), the image's registry and region, and was "
                + "still refused: it expired or its credentials were revoked; fetch a new one"
        case .pullOnly:
            return "\(principal) needs \(action): attach the managed policy \(Self.pullOnlyPolicy) (ecr:GetAuthorizationToken, "
                + "ecr:BatchGetImage, ecr:GetDownloadUrlForLayer, ecr:BatchImportUpstreamImage)"
                + (denial?.cause == .identityPolicyDenies ? ", and remove the explicit deny of \(action) from its policies" : "")
                + (denial?.cause == .guardrail ? "; a service control policy, permissions boundary or session policy denies it: lift that first" : "")
        case .repositoryPolicy:
            let verb = denial?.cause == .resourcePolicyDenies ? "denies" : "does not allow"
            return "the repository policy of \(image.repository) \(verb) \(action) to \(principal): allow ecr:BatchGetImage and "
                + "ecr:GetDownloadUrlForLayer for it (aws ecr get-repository-policy --repository-name \(image.repository))"
        case .pullThrough:
            return "\(principal) needs \(action) for a first pull through the pull-through cache: attach \(Self.pullOnlyPolicy) "
                + "(it grants ecr:BatchImportUpstreamImage) and allow ecr:CreateRepository on \(Self.prefixARN(repositoryARN)); "
                + "AmazonEC2ContainerRegistryReadOnly has neither"
        case .kmsKey:
            return "\(image.repository) is encrypted with a KMS key that does not let \(principal) use \(action)"
                + (denial?.resource.map { " (\($0))" } ?? "") + ": allow it in the key policy or with a grant"
        case .otherAction where denial?.action == nil:
            return "ECR denied \(principal) without naming the action (\"\(Self.shown(errorMessage ?? ""))\"): check its policies and the "
                + "repository policy of \(image.repository) for ecr:BatchGetImage and ecr:GetDownloadUrlForLayer"
        case .otherAction:
            return "\(principal) needs \(action) on \(denial?.resource ?? repositoryARN): allow it in its policies"
                + (denial?.cause.isResourcePolicy == true ? " and in the resource's policy" : "")
        case .noRepository:
            let create = "create it (aws ecr create-repository --repository-name \(image.repository)) or fix the image name"
            switch rules {
            case .notChecked:
                return create
            case .rule(let rule):
                return "\(image.repository) is under the pull-through cache rule \(rule.ecrRepositoryPrefix) -> \(rule.upstreamRegistryURL), "
                    + "so a first pull creates it: check that the upstream has \(image.repository.dropFirst(rule.ecrRepositoryPrefix.count + 1))"
            case .noRule(let prefix, let prefixes):
                return "no pull-through cache rule has the prefix \(prefix) (the rules: "
                    + (prefixes.isEmpty ? "none" : prefixes.joined(separator: ", ")) + "): \(create), or add the rule"
            case .unreadable(let reason):
                return "\(create); whether a pull-through cache rule covers it is unknown: \(reason)"
            }
        case .noImage:
            return "push \(image.repository):\(image.reference), or use a tag or digest that exists "
                + "(aws ecr list-images --repository-name \(image.repository))"
        case .noPlatform:
            return "push an image for this platform, or pull by the digest of one the index lists"
        case .tls:
            return "the registry's certificate was not trusted: behind a TLS-inspecting proxy, set AWS_CA_BUNDLE to its CA bundle"
        case .timeout, .unreachable:
            return Self.transientHint
        case .unexpected:
            if let status = httpStatus, status == 429 || (500...599).contains(status) { return Self.transientHint }
            return "the registry answered in a way a pull does not expect; run the check again, and report it if it stays"
        }
    }

    static func stepName(_ step: PullStep) -> String {
        switch step {
        case .registry: "GET /v2/"
        case .manifest: "manifest"
        case .platformManifest: "platform manifest"
        case .configBlob: "config blob"
        case .download: "config blob download"
        }
    }

    /// ECR's text as printed: one line, no controls, no token-like strings, bounded.
    static func shown(_ text: String) -> String {
        TerminalText.printable(SecretRedaction.webTokens(in: text), limit: 400)
    }

    /// `arn:...:repository/PREFIX/*` for the repository's first component.
    static func prefixARN(_ repositoryARN: String) -> String {
        guard let range = repositoryARN.firstRange(ofText: ":repository/") else { return repositoryARN }
        let path = repositoryARN[range.upperBound...]
        let first = path.prefix { $0 != "/" }
        return repositoryARN[..<range.upperBound] + first + "/*"
    }
}
