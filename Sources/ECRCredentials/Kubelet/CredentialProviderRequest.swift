// What the kubelet sends an image credential provider plugin on stdin.

/// A `CredentialProviderRequest` of `credentialprovider.kubelet.k8s.io` v1, v1beta1 or v1alpha1.
package struct CredentialProviderRequest: Sendable, Equatable {
    /// The API versions understood; the response is written in the request's.
    package enum APIVersion: String, Sendable, CaseIterable {
        /// Kubernetes 1.26 and later (service-account tokens from 1.33).
        case v1 = "credentialprovider.kubelet.k8s.io/v1"
        /// Kubernetes 1.24 and 1.25.
        case v1beta1 = "credentialprovider.kubelet.k8s.io/v1beta1"
        /// Kubernetes 1.20 to 1.23.
        case v1alpha1 = "credentialprovider.kubelet.k8s.io/v1alpha1"
    }

    /// Why a request was refused.
    package struct InvalidRequest: Error, Sendable, CustomStringConvertible {
        /// What is wrong.
        package var reason: String
        /// For example "invalid CredentialProviderRequest: kind is \"Pod\"".
        package var description: String { "invalid CredentialProviderRequest: \(reason)" }
    }

    /// The API version of the request, and of the response.
    package var apiVersion: APIVersion
    /// The image being pulled, usually without its tag: `host[:port]/repository[@digest]`.
    package var image: String
    /// The pod's service-account token, when the provider is configured with `tokenAttributes`.
    package var serviceAccountToken: String?
    /// The service account's annotations that the provider configuration passes on.
    package var serviceAccountAnnotations: [String: String]

    package init(apiVersion: APIVersion, image: String, serviceAccountToken: String? = nil,
                serviceAccountAnnotations: [String: String] = [:]) {
        self.apiVersion = apiVersion
        self.image = image
        self.serviceAccountToken = serviceAccountToken
        self.serviceAccountAnnotations = serviceAccountAnnotations
    }

    /// Reads a request: `kind` must be `CredentialProviderRequest`, `apiVersion` one of
    /// `APIVersion`, `image` non-empty. Fields this version does not know are ignored.
    /// - Throws: `InvalidRequest` saying what is wrong.
    package init(json input: [UInt8]) throws {
        struct Wire: Decodable {
            var kind: String?
            var apiVersion: String?
            var image: String?
            var serviceAccountToken: String?
            var serviceAccountAnnotations: [String: String]?
        }
        guard !input.allSatisfy({ $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09 }) else {
            throw InvalidRequest(reason: "standard input is empty; the kubelet sends a JSON request")
        }
        let wire: Wire
        do {
            wire = try JSONInput.decode(Wire.self, from: input)
        } catch {
            throw InvalidRequest(reason: "standard input is not a JSON object with string fields kind, apiVersion and image (each once)")
        }
        guard wire.kind == "CredentialProviderRequest" else {
            throw InvalidRequest(reason: "kind is \(wire.kind.map { "\"\(TerminalText.printable($0, limit: 100))\"" } ?? "missing"), not \"CredentialProviderRequest\"")
        }
        guard let versionText = wire.apiVersion, let version = APIVersion(rawValue: versionText) else {
            let supported = APIVersion.allCases.map(\.rawValue).joined(separator: ", ")
            throw InvalidRequest(reason: "apiVersion is \(wire.apiVersion.map { "\"\(TerminalText.printable($0, limit: 100))\"" } ?? "missing"); supported: \(supported)")
        }
        guard let image = wire.image?.trimmingASCIIWhitespace(), !image.isEmpty else {
            throw InvalidRequest(reason: "image is missing or empty")
        }
        let token = wire.serviceAccountToken.flatMap { $0.isEmpty ? nil : $0 }
        self.init(apiVersion: version, image: image, serviceAccountToken: token,
                  serviceAccountAnnotations: wire.serviceAccountAnnotations ?? [:])
    }
}
