// The chain of errors one error wraps, and the questions asked of it.

/// Questions asked of an error and the errors it wraps (`WrappingError`), so that a decision is
/// made on the original value however many layers it crossed.
package enum ErrorChain {
    /// Whether `error` is a passing failure (`TransientFailure`); an error that does not classify
    /// itself is final.
    package static func isTransient(_ error: (any Error)?) -> Bool {
        guard let error else { return false }
        return (error as? any TransientFailure)?.isTransient ?? false
    }

    /// `error` and every error it wraps, outermost first (`WrappingError.underlyingError`); at
    /// most 32 layers, so a cycle cannot hang it.
    package static func layers(of error: any Error) -> [any Error] {
        var layers: [any Error] = [error]
        var current: (any Error)? = (error as? any WrappingError)?.underlyingError
        while let layer = current, layers.count < 32 {
            layers.append(layer)
            current = (layer as? any WrappingError)?.underlyingError
        }
        return layers
    }

    /// The outermost error of type `T` in `error`'s chain.
    package static func first<T: Error>(_ type: T.Type, in error: any Error) -> T? {
        for layer in layers(of: error) {
            if let found = layer as? T { return found }
        }
        return nil
    }
}
