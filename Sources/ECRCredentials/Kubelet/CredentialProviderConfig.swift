// The kubelet's CredentialProviderConfig that sets this plugin up, printed by `ecr-credential-provider config`.

/// A complete `kubelet.config.k8s.io/v1` `CredentialProviderConfig` for this plugin, as YAML.
package struct CredentialProviderConfig: Sendable {
    /// The provider name: the executable's file name in the kubelet's bin directory.
    package var name: String
    /// How long the kubelet keeps credentials when a response gives no duration (ours always do).
    package var defaultCacheDuration: GoDuration
    /// The audience of the service-account tokens the kubelet should send (`tokenAttributes`);
    /// nil for none, so the node's identity pulls every image.
    package var serviceAccountAudience: String?
    /// Upstream registries answered through an ECR mirror: their hosts join `matchImages`, and
    /// the mappings are the provider's `args`.
    package var mirrors: MirrorMap = .empty

    /// Every ECR private registry host form, in every partition (`*` spans one DNS label).
    package static let matchImages = [
        "*.dkr.ecr.*.amazonaws.com", "*.dkr-ecr.*.on.aws", "*.dkr.ecr.*.amazonaws.com.cn",
        "*.dkr-ecr.*.on.amazonwebservices.com.cn", "*.dkr.ecr-fips.*.amazonaws.com", "*.dkr-ecr-fips.*.on.aws",
        "*.dkr.ecr.*.c2s.ic.gov", "*.dkr.ecr.*.sc2s.sgov.gov", "*.dkr.ecr.*.cloud.adc-e.uk",
        "*.dkr.ecr.*.csp.hci.ic.gov", "*.dkr.ecr.*.amazonaws.eu",
    ]

    /// Creates a configuration; the defaults are the plugin's name, 12 hours, no service accounts.
    package init(name: String = "ecr-credential-provider", defaultCacheDuration: GoDuration = GoDuration(seconds: 12 * 3600),
                serviceAccountAudience: String? = nil) {
        self.name = name
        self.defaultCacheDuration = defaultCacheDuration
        self.serviceAccountAudience = serviceAccountAudience
    }

    /// The YAML document, for `--image-credential-provider-config`.
    package var yaml: String {
        var lines = [
            "# The kubelet's image credential provider configuration for Amazon ECR.",
            "# Pass it with --image-credential-provider-config, and the directory holding",
            "# \(name) with --image-credential-provider-bin-dir.",
            "apiVersion: kubelet.config.k8s.io/v1",
            "kind: CredentialProviderConfig",
            "providers:",
            "  - name: \(Self.quoted(name))",
            "    apiVersion: \(CredentialProviderRequest.APIVersion.v1.rawValue)",
            "    matchImages:",
        ]
        lines += Self.matchImages.map { "      - \(Self.quoted($0))" }
        if !mirrors.isEmpty {
            lines.append("      # Upstream registries pulled through ECR (see args)")
            lines += mirrors.mirrors.flatMap(\.upstreamHosts).map { "      - \(Self.quoted($0))" }
        }
        lines.append("    defaultCacheDuration: \(Self.quoted(defaultCacheDuration.description))")
        if !mirrors.isEmpty {
            lines.append("    args:")
            lines += mirrors.arguments.flatMap { ["      - \"--mirror\"", "      - \(Self.quoted($0))"] }
        }
        if let audience = serviceAccountAudience {
            lines += [
                "    # Kubernetes 1.34+: pods whose service account is annotated with",
                "    # \(CredentialProviderPlugin.roleAnnotation) pull as that role; others as the node.",
                "    # (A 1.33 kubelet, where this is alpha, does not know cacheType: delete that line there.)",
                "    tokenAttributes:",
                "      serviceAccountTokenAudience: \(Self.quoted(audience))",
                "      cacheType: ServiceAccount",
                "      requireServiceAccount: false",
                "      optionalServiceAccountAnnotationKeys:",
                "        - \(Self.quoted(CredentialProviderPlugin.roleAnnotation))",
            ]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A YAML double-quoted scalar (JSON string syntax is valid YAML).
    static func quoted(_ text: String) -> String { JSONText.quote(text) }
}
