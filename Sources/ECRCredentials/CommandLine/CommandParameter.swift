// One flag, option or positional argument of a command.

/// A flag (`--json`), an option with a value (`--image IMAGE`, `--image=IMAGE`) or a positional
/// argument, with its help text.
package struct CommandParameter: Sendable {
    /// Which of the three it is.
    package enum Kind: Sendable {
        /// `--name`: present or not.
        case flag
        /// `--name VALUE` or `--name=VALUE`.
        case option
        /// A word in its place.
        case argument
    }

    /// What the shells complete a value with.
    package enum Completion: Sendable {
        /// Nothing: the value is free text (a host, a region).
        case none
        /// File names.
        case file
        /// Directory names.
        case directory
    }

    /// Flag, option or argument.
    package var kind: Kind
    /// The long name without dashes (`dry-run`); for an argument, the key its values are found under.
    package var name: String
    /// The value's name in help and usage (`host` shows as `<host>`).
    package var valueName: String
    /// What it does: the help text.
    package var help: String
    /// Whether it may be given more than once (an option) or takes every remaining word (an argument).
    package var isRepeating: Bool
    /// Whether the command needs it (arguments only).
    package var isRequired: Bool
    /// The value it has when not given, shown in help as `(default: VALUE)`.
    package var defaultValue: String?
    /// What a shell completes its value with.
    package var completion: Completion

    /// `--name`, with its help.
    package static func flag(_ name: String, help: String) -> CommandParameter {
        CommandParameter(kind: .flag, name: name, valueName: "", help: help, isRepeating: false, isRequired: false,
                         defaultValue: nil, completion: .none)
    }

    /// `--name <value>`: once (the last one given counts), or repeatable.
    package static func option(_ name: String, value: String, help: String, repeating: Bool = false,
                               default defaultValue: String? = nil, completion: Completion = .none) -> CommandParameter {
        CommandParameter(kind: .option, name: name, valueName: value, help: help, isRepeating: repeating, isRequired: false,
                         defaultValue: defaultValue, completion: completion)
    }

    /// A positional argument `<value>`, kept under `name`; a repeating one takes every remaining word.
    package static func argument(_ name: String, value: String, help: String, repeating: Bool = false,
                                 required: Bool = false) -> CommandParameter {
        CommandParameter(kind: .argument, name: name, valueName: value, help: help, isRepeating: repeating, isRequired: required,
                         defaultValue: nil, completion: .none)
    }

    /// How help and error messages name it: `--registry <host>`, `--json`, `<registry>`.
    var label: String {
        switch kind {
        case .flag: return "--\(name)"
        case .option: return "--\(name) <\(valueName)>"
        case .argument: return "<\(valueName)>"
        }
    }

    /// How the usage line shows it: `[--registry <host> ...]`, `<registry> ...`.
    var synopsis: String {
        let repeated = isRepeating ? "\(label) ..." : label
        return kind == .argument && isRequired ? repeated : "[\(repeated)]"
    }
}
