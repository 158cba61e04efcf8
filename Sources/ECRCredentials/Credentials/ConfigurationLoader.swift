// Reads the AWS config files at most once per process, and only when something needs them.
import Synchronization

/// Loads `AWSConfiguration` on first use and keeps the result (or the error).
package final class ConfigurationLoader: Sendable {
    private let load: @Sendable () throws -> AWSConfiguration
    private let result = Mutex<Result<AWSConfiguration, any Error>?>(nil)

    /// Creates a loader around a load function.
    package init(_ load: @escaping @Sendable () throws -> AWSConfiguration) {
        self.load = load
    }

    /// Loads the files the environment names.
    package convenience init(environment: Environment) {
        self.init { try AWSConfiguration.load(environment: environment) }
    }

    /// The configuration.
    /// - Throws: what loading threw, every time it is asked.
    package func configuration() throws -> AWSConfiguration {
        try result.withLock { cached in
            if let cached { return try cached.get() }
            let loaded = Result { try load() }
            cached = loaded
            return try loaded.get()
        }
    }
}
