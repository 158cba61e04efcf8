// The user's AWS configuration: the config and credentials files, merged per profile.

/// The shared config file (`AWS_CONFIG_FILE`, default `~/.aws/config`) and credentials file
/// (`AWS_SHARED_CREDENTIALS_FILE`, default `~/.aws/credentials`), read together.
package struct AWSConfiguration: Sendable {
    /// A profile's settings, with the file each came from.
    package struct Profile: Sendable, Equatable {
        /// The profile name.
        package var name: String
        /// Settings by lower-case key; the credentials file's win over the config file's.
        package var values: [String: String]
        /// For each key, the file it came from (for messages).
        package var origins: [String: String]
        /// Sub-settings of the config file (such as `s3`).
        package var subsections: [String: [String: String]]

        /// A non-empty setting.
        package subscript(_ key: String) -> String? {
            guard let value = values[key], !value.isEmpty else { return nil }
            return value
        }

        /// Where `key` was set, as "file" (for messages).
        package func origin(of key: String) -> String {
            origins[key] ?? "the AWS config"
        }
    }

    /// The parsed config file, if it exists.
    package var configFile: AWSConfigFile?
    /// The parsed credentials file, if it exists.
    package var credentialsFile: AWSConfigFile?
    /// The config file's path (whether or not it exists).
    package var configPath: String
    /// The credentials file's path (whether or not it exists).
    package var credentialsPath: String

    /// Creates a configuration from already-parsed files.
    package init(configFile: AWSConfigFile?, credentialsFile: AWSConfigFile?, configPath: String, credentialsPath: String) {
        self.configFile = configFile
        self.credentialsFile = credentialsFile
        self.configPath = configPath
        self.credentialsPath = credentialsPath
    }

    /// Reads both files from the paths the environment names.
    /// - Throws: `SystemError` or `AWSConfigFile.ParseError`, naming the file.
    package static func load(environment: Environment) throws -> AWSConfiguration {
        let configPath = environment.expandingTilde(environment["AWS_CONFIG_FILE"] ?? "~/.aws/config")
        let credentialsPath = environment.expandingTilde(environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "~/.aws/credentials")
        return AWSConfiguration(configFile: try AWSConfigFile.load(path: configPath),
                                credentialsFile: try AWSConfigFile.load(path: credentialsPath),
                                configPath: configPath, credentialsPath: credentialsPath)
    }

    /// The profile to use: `AWS_PROFILE`, else `AWS_DEFAULT_PROFILE`, else `default`.
    package static func profileName(environment: Environment) -> String {
        environment["AWS_PROFILE"] ?? environment["AWS_DEFAULT_PROFILE"] ?? "default"
    }

    /// A profile merged from both files; nil when neither file has it.
    ///
    /// In the config file a profile is `[profile NAME]` (`[default]` also for the default); in the
    /// credentials file it is `[NAME]`.
    package func profile(named name: String) -> Profile? {
        var profile = Profile(name: name, values: [:], origins: [:], subsections: [:])
        var found = false
        if let configFile {
            var headers = ["profile \(name)"]
            if name == "default" { headers.insert("default", at: 0) }
            for header in headers {
                guard let section = configFile.section(header) else { continue }
                found = true
                for (key, value) in section.values {
                    profile.values[key] = value
                    profile.origins[key] = "\(configFile.path) [\(header)]"
                }
                profile.subsections.merge(section.subsections) { _, new in new }
            }
        }
        if let credentialsFile, let section = credentialsFile.section(name) {
            found = true
            for (key, value) in section.values {
                profile.values[key] = value
                profile.origins[key] = "\(credentialsFile.path) [\(name)]"
            }
        }
        return found ? profile : nil
    }

    /// The `[sso-session NAME]` section of the config file.
    package func ssoSession(named name: String) -> AWSConfigFile.Section? {
        configFile?.section("sso-session \(name)")
    }

    /// The `[services NAME]` section of the config file.
    package func services(named name: String) -> AWSConfigFile.Section? {
        configFile?.section("services \(name)")
    }
}
