// What the docker helper's commands are built from: its configuration and the process's shared parts.

/// The configuration and the parts every command of one docker helper run shares: the
/// environment, the network, the clock, the diagnostics, and how stores are chosen. The
/// executable builds it once and hands it to `CredentialHelper`, `TokenCacheCommands` and `Doctor`.
package struct HelperContext: Sendable {
    /// The settings.
    package var configuration: HelperConfiguration
    /// The process's environment.
    package var environment: Environment
    /// The network; used only when something must be fetched.
    package var transport: any HTTPTransport
    /// The clock.
    package var clock: any WallClock
    /// Where warnings and debug lines go.
    package var diagnostics: Diagnostics
    /// Fixed stores (tests); nil: chosen per action from the configuration.
    package var stores: CredentialStores?
    /// What the chosen stores reach: the session bus, the Secret Service, the kernel's key calls.
    package var boundaries: CredentialStores.Boundaries

    /// Creates a context; by default the system clock and boundaries, and stores chosen per action.
    package init(configuration: HelperConfiguration, environment: Environment, transport: any HTTPTransport,
                clock: any WallClock = SystemClock(), diagnostics: Diagnostics = Diagnostics(), stores: CredentialStores? = nil,
                boundaries: CredentialStores.Boundaries = CredentialStores.Boundaries()) {
        self.configuration = configuration
        self.environment = environment
        self.transport = transport
        self.clock = clock
        self.diagnostics = diagnostics
        self.stores = stores
        self.boundaries = boundaries
    }

    /// The stores of one action: the fixed ones, or those `CredentialStores.select` chooses;
    /// `everyBackend` for actions that must reach all of them (erase, list, logout, doctor).
    package func stores(everyBackend: Bool = false, kernelTier: CredentialStores.KernelTier = .configured) -> CredentialStores {
        stores ?? CredentialStores.select(configuration, environment: environment, diagnostics: diagnostics, everyBackend: everyBackend,
                                          sessionBus: boundaries.sessionBus, openKeyring: boundaries.openKeyring,
                                          keys: boundaries.kernelKeys, kernelTier: kernelTier)
    }

    /// The same context with other diagnostics.
    package func with(diagnostics: Diagnostics) -> HelperContext {
        var copy = self
        copy.diagnostics = diagnostics
        return copy
    }
}
