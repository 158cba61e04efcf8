// `doctor --image`: the pull check after the token check, and its fields in the JSON report.

extension Doctor {
    /// What the registry answered the pull check, as the JSON report gives it.
    package struct PullAnswer: Sendable, Equatable {
        /// The hint table's row (`pulls`, `pull-only`, `no-image`, ...); nil when not checked.
        package var finding: String?
        /// The request that decided it (`registry`, `manifest`, `platform-manifest`, `config-blob`, `download`).
        package var step: String?
        /// Its HTTP status, when an answer came.
        package var httpStatus: Int?
        /// ECR's error code (`DENIED`, `NAME_UNKNOWN`, `MANIFEST_UNKNOWN`, `UNAUTHORIZED`).
        package var errorCode: String?
        /// The IAM action a denial named.
        package var action: String?

        /// Creates an answer.
        package init(finding: String?, step: String?, httpStatus: Int? = nil, errorCode: String? = nil, action: String? = nil) {
            self.finding = finding
            self.step = step
            self.httpStatus = httpStatus
            self.errorCode = errorCode
            self.action = action
        }

        /// The answer of a finding.
        package init(_ finding: PullFinding) {
            self.init(finding: finding.row.rawValue, step: finding.step.rawValue, httpStatus: finding.httpStatus,
                      errorCode: finding.errorCode.map { TerminalText.printable($0, limit: 100) },
                      action: finding.action.map { TerminalText.printable($0, limit: 100) })
        }

        /// `"finding":..,"step":..,"httpStatus":..,"errorCode":..,"action":..`, null where absent.
        var jsonFields: String {
            func text(_ value: String?) -> String { value.map(JSONText.quote) ?? "null" }
            return "\"finding\":\(text(finding)),\"step\":\(text(step)),\"httpStatus\":\(httpStatus.map(String.init) ?? "null"),"
                + "\"errorCode\":\(text(errorCode)),\"action\":\(text(action))"
        }
    }

    /// The `pull` check of a finding, with its summary and hint from the table.
    package static func check(for finding: PullFinding, details: [String] = []) -> Check {
        var details = details + finding.notes
        if case .unreadable(let reason) = finding.rules { details.append("pull-through cache rules: \(reason)") }
        return Check(name: "pull", status: finding.pulls ? .ok : .problem, summary: finding.summary, details: details,
                     hint: finding.hint, pull: PullAnswer(finding))
    }

    /// Asks the registry for `imageInput` with the token the token check got.
    func pullCheck(image imageInput: String, registry: ECRRegistry, token: IssuedToken?) -> Check {
        let notChecked = PullAnswer(finding: nil, step: nil)
        let image: ImageReference
        do {
            image = try ImageReference(parsing: imageInput)
        } catch {
            return Check(name: "pull", status: .problem, summary: "\(error)", details: [],
                         hint: "give an image as docker pull takes it: ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY[:TAG]", pull: notChecked)
        }
        guard ECRRegistry(address: image.address)?.host == registry.host else {
            let hint = ECRRegistry(address: image.address) == nil
                ? "this helper answers for ECR registries only: give an image of one (for a pull-through cache: REGISTRY/PREFIX/REPOSITORY)"
                : "check the registry the image is in, or leave out the registry argument"
            return Check(name: "pull", status: .problem, summary: "\(image) is not in \(registry.host)", details: [], hint: hint, pull: notChecked)
        }
        guard let token else {
            return Check(name: "pull", status: .problem, summary: "not checked: no ECR token for \(registry.host)", details: [],
                         hint: "fix the token check first", pull: notChecked)
        }
        let service = TokenService(settings: configuration.tokens, cache: .disabled, environment: environment,
                                   transport: transport, clock: clock, diagnostics: diagnostics)
        let check = RegistryCheck(transport: transport, timeouts: configuration.tokens.requestTimeouts,
                                  rules: { try service.pullThroughCacheRules(of: $0) })
        return Self.check(for: check.run(image: image, password: token.password, tokenRegistry: registry,
                                         secrets: RegistryCheck.secrets(in: environment.variables)))
    }
}
