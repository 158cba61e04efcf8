// What `configure` changes in a container tool's config file, computed before anything is written.

/// Adds (or removes) this helper to a docker or podman config document: `credHelpers` entries
/// for ECR registries, or `credsStore`.
///
/// Every other key, and the order of keys, stays as it was. Applying the same change twice
/// changes nothing the second time.
package struct ClientConfigurator: Sendable {
    /// The helper's name in config files: docker runs `docker-credential-<name>`.
    package static let helperName = "ecr"

    /// Classic `docker build` (`DOCKER_BUILDKIT=0`) calls `get` for every `credHelpers` entry on
    /// every build; past this many entries `configure` says so.
    package static let manyEntries = 10

    /// What to do.
    package struct Plan: Sendable, Equatable {
        /// The registry hosts for `credHelpers`.
        package var registries: [String]
        /// Make the helper the `credsStore` (the default for every registry).
        package var credsStore: Bool
        /// Remove instead of add: the given registries' entries (every entry naming this helper
        /// when none are given) and, with `credsStore` or no registries, a `credsStore` naming it.
        package var remove: Bool

        package init(registries: [String], credsStore: Bool = false, remove: Bool = false) {
            self.registries = registries
            self.credsStore = credsStore
            self.remove = remove
        }
    }

    /// The result of applying a plan.
    package struct Outcome: Sendable {
        /// The document after the change.
        package var document: JSONDocument
        /// One line per change, in order ("add credHelpers 123456789012.dkr.ecr.us-east-1.amazonaws.com").
        package var changes: [String]
        /// What the user should know about the result (replaced helpers, hidden logins, slow builds).
        package var notes: [String]
        /// Whether anything changed.
        package var changed: Bool { !changes.isEmpty }
    }

    /// Why a document cannot be changed.
    package struct Conflict: Error, Sendable, CustomStringConvertible {
        /// What is in the way.
        package var reason: String
        /// The reason.
        package var description: String { reason }
    }

    /// Applies `plan` to `document` (an object).
    /// - Throws: `Conflict` when `credHelpers` exists but is not an object.
    package static func apply(_ plan: Plan, to document: JSONDocument, kind: ClientConfigFile.Kind) throws -> Outcome {
        var result = document
        var changes: [String] = []
        var notes: [String] = []
        var helpers = result["credHelpers"] ?? .object([])
        guard helpers.members != nil else {
            throw Conflict(reason: "\"credHelpers\" is not a JSON object; fix it by hand first")
        }
        let name = helperName
        if plan.remove {
            let targets = plan.registries.isEmpty
                ? (helpers.members ?? []).filter { $0.value.stringValue == name }.map(\.key) : plan.registries
            for host in targets {
                guard let current = helpers[host] else { continue }
                guard current.stringValue == name else {
                    notes.append("credHelpers \(host) names \(Self.describe(current)), not \(name); left as it is")
                    continue
                }
                helpers.set(host, to: nil)
                changes.append("remove credHelpers \(host)")
            }
            if plan.credsStore || plan.registries.isEmpty, result["credsStore"]?.stringValue == name {
                result.set("credsStore", to: nil)
                changes.append("remove credsStore \(name)")
            }
        } else {
            for host in plan.registries {
                let current = helpers[host]
                if current?.stringValue == name { continue }
                if let current {
                    notes.append("credHelpers \(host) named \(Self.describe(current)); it now names \(name)")
                    changes.append("change credHelpers \(host)")
                } else {
                    changes.append("add credHelpers \(host)")
                }
                helpers.set(host, to: .string(name))
            }
            if plan.credsStore, result["credsStore"]?.stringValue != name {
                let previousStore = result["credsStore"]
                if let previous = previousStore {
                    notes.append("credsStore named \(Self.describe(previous)); it now names \(name): logins kept by that store are no longer used")
                }
                result.set("credsStore", to: .string(name))
                changes.append("set credsStore \(name)")
                let inlined = (result["auths"]?.members ?? []).filter { $0.value["auth"] != nil || $0.value["identitytoken"] != nil }.map(\.key)
                if !inlined.isEmpty, previousStore == nil {
                    let tool = kind == .docker ? "docker" : "podman"
                    notes.append("\(tool) now asks the helper for every registry without a credHelpers entry, so the logins kept in the "
                                 + "file for \(inlined.joined(separator: ", ")) are no longer used; `\(tool) login` to them again to keep them in the helper")
                }
            }
        }
        if helpers.members?.isEmpty == true {
            if result["credHelpers"] != nil {
                result.set("credHelpers", to: nil)
            }
        } else {
            result.set("credHelpers", to: helpers)
        }
        let entries = helpers.members?.count ?? 0
        if !plan.remove, kind == .docker, entries > manyEntries {
            notes.append("credHelpers has \(entries) entries: the classic builder (DOCKER_BUILDKIT=0) runs the helper for every one "
                         + "of them on every build; BuildKit, the default builder, asks only for the registries a build uses")
        }
        if let store = result["credsStore"]?.stringValue, store != name, !plan.remove {
            notes.append("credsStore names \(store): registries without a credHelpers entry still use it")
        }
        return Outcome(document: result, changes: changes, notes: notes)
    }

    static func describe(_ value: JSONDocument) -> String {
        value.stringValue.map { "\"\($0)\"" } ?? "a non-string value"
    }
}
