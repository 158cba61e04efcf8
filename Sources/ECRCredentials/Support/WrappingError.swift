// Errors that carry the error that caused them, and the walk down that chain.

/// An error that wraps another: the cause it carries as a value, so that decisions (retry, fall
/// back, which hint to print) are made on the original error however many layers it crossed.
public protocol WrappingError: Error {
    /// The error that caused this one, if any.
    var underlyingError: (any Error)? { get }
}

extension Failure {
    /// `error` and every error it wraps, outermost first (`WrappingError.underlyingError`); at
    /// most 32 layers, so a cycle cannot hang it.
    public static func chain(_ error: any Error) -> [any Error] {
        var chain: [any Error] = [error]
        var current: (any Error)? = (error as? any WrappingError)?.underlyingError
        while let layer = current, chain.count < 32 {
            chain.append(layer)
            current = (layer as? any WrappingError)?.underlyingError
        }
        return chain
    }

    /// The outermost error of type `T` in `error`'s chain.
    public static func first<T: Error>(_ type: T.Type, in error: any Error) -> T? {
        for layer in chain(error) {
            if let found = layer as? T { return found }
        }
        return nil
    }
}

extension CredentialError: WrappingError {
    /// `underlying`.
    public var underlyingError: (any Error)? { underlying }
}

extension HelperError: WrappingError {
    /// `underlying`.
    public var underlyingError: (any Error)? { underlying }
}

extension CredentialProviderPlugin.Failure: WrappingError {
    /// `underlying`.
    public var underlyingError: (any Error)? { underlying }
}

extension ClientSetup.Failure: WrappingError {
    /// `underlying`.
    public var underlyingError: (any Error)? { underlying }
}
