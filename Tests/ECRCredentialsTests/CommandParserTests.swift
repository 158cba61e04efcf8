// The library's command-line parser: values, errors, help layout and completion scripts.
import ECRCredentials
import Testing

/// A program shaped like the executables: a root with `-v`, a command with every kind of parameter.
private let sample = CommandDescription(
    name: "tool",
    abstract: "A tool.",
    discussion: "Does things.\n\n  tool run --name x    an example line that is longer than eighty columns, kept whole",
    subcommands: [
        CommandDescription(
            name: "run", abstract: "Run it.",
            parameters: [
                .argument("targets", value: "target", help: "What to run on.", repeating: true),
                .option("name", value: "name", help: "A name."),
                .option("tag", value: "tag", help: "A tag. Repeatable.", repeating: true),
                .option("dir", value: "directory", help: "Where.", default: "/var/tool", completion: .directory),
                .flag("dry-run", help: "Say what would happen."),
            ]),
        CommandDescription(
            name: "show", abstract: "Show one.",
            parameters: [.argument("item", value: "item", help: "The item.", required: true)]),
    ],
    hasShortVersionFlag: true)

private let parser = CommandParser(root: sample, version: "tool 1.0")

/// The parsed command, or a failed expectation.
private func parsed(_ arguments: [String]) throws -> ParsedCommand {
    guard case .run(let command) = try parser.parse(arguments) else {
        Issue.record("\(arguments) printed text instead of running")
        throw CommandFailure.failure
    }
    return command
}

/// The text printed, or a failed expectation.
private func output(_ arguments: [String]) throws -> String {
    guard case .output(let text) = try parser.parse(arguments) else {
        Issue.record("\(arguments) ran a command instead of printing")
        return ""
    }
    return text
}

/// The usage error, or a failed expectation.
private func usageError(_ arguments: [String]) -> CommandUsageError? {
    do {
        _ = try parser.parse(arguments)
        Issue.record("\(arguments) was accepted")
        return nil
    } catch {
        return error
    }
}

@Suite struct CommandParserTests {
    @Test(arguments: [
        ["run", "--name", "a", "--tag", "x", "--tag=y", "t1", "t2"],
        ["run", "t1", "--name=a", "--tag=x", "t2", "--tag", "y"],
        ["run", "--tag=x", "--name", "z", "--name=a", "--tag", "y", "t1", "t2"],
    ])
    func readsOptionsInEitherFormAndRepeatedOnes(arguments: [String]) throws {
        let command = try parsed(arguments)
        #expect(command.commandPath == ["tool", "run"] && command.subcommand == "run")
        #expect(command.value("name") == "a")  // the last one given
        #expect(command.values("tag") == ["x", "y"])
        #expect(command.values("targets") == ["t1", "t2"])
        #expect(command.value("dir") == nil && !command.flag("dry-run"))
    }

    @Test func aValueMayBeEmptyOrHoldAnEqualsSignOrADashAfterEquals() throws {
        let command = try parsed(["run", "--name=", "--tag=a=b", "--tag=-x", "--tag", "-", "--dry-run"])
        #expect(command.value("name") == "")
        #expect(command.values("tag") == ["a=b", "-x", "-"])
        #expect(command.flag("dry-run"))
    }

    @Test func doubleDashEndsTheOptions() throws {
        let command = try parsed(["run", "--dry-run", "--", "--name", "-h", "--version", "--"])
        #expect(command.values("targets") == ["--name", "-h", "--version", "--"])
        #expect(command.value("name") == nil && command.flag("dry-run"))
    }

    @Test func anUnknownOptionIsNamedWithTheNearestOne() throws {
        let error = try #require(usageError(["run", "--dryrun"]))
        #expect(error.kind == .unknownOption)
        #expect(error.message == "Unknown option '--dryrun'; did you mean '--dry-run'?")
        #expect(error.commandPath == ["tool", "run"])
        #expect(error.description == """
            Error: Unknown option '--dryrun'; did you mean '--dry-run'?
            Usage: tool run [<target> ...] [--name <name>] [--tag <tag> ...] [--dir <directory>] [--dry-run]
              See 'tool run --help' for more information.
            """)
        #expect(usageError(["run", "--completely-else"])?.message == "Unknown option '--completely-else'")
        #expect(usageError(["run", "-x"])?.kind == .unknownOption)
        // -v is the root's only.
        #expect(usageError(["run", "-v"])?.message == "Unknown option '-v'")
    }

    @Test(arguments: [["run", "--name"], ["run", "--name", "--dry-run"], ["run", "--tag", "--"]])
    func aMissingValueIsNamedWithTheOptionsHelp(arguments: [String]) throws {
        let error = try #require(usageError(arguments))
        #expect(error.kind == .missingValue)
        #expect(error.message.hasPrefix("Missing value for '--"))
        #expect(error.description.contains("\nHelp:  --"))
    }

    @Test func aFlagTakesNoValue() throws {
        let error = try #require(usageError(["run", "--dry-run=yes"]))
        #expect(error.kind == .unexpectedValue && error.message == "The flag '--dry-run' takes no value")
        // --help and --version, which every command has, likewise; never "did you mean" the same name.
        for word in ["--help=yes", "--version=1"] {
            let builtIn = try #require(usageError(["run", word]))
            #expect(builtIn.kind == .unexpectedValue && builtIn.message == "The flag '\(word.prefix { $0 != "=" })' takes no value")
        }
    }

    @Test func extraAndMissingArguments() throws {
        let extra = try #require(usageError(["show", "a", "b"]))
        #expect(extra.kind == .unexpectedArgument && extra.message == "Unexpected argument 'b'")
        let missing = try #require(usageError(["show"]))
        #expect(missing.kind == .missingArgument && missing.message == "Missing expected argument '<item>'")
        #expect(missing.help == "<item>  The item.")
        #expect(missing.usage == "tool show <item>")
    }

    @Test func anUnknownSubcommandIsNamedWithTheNearestOne() throws {
        let error = try #require(usageError(["rnu"]))
        #expect(error.kind == .unknownSubcommand && error.message == "Unknown subcommand 'rnu'; did you mean 'run'?")
        #expect(error.commandPath == ["tool"])
        #expect(usageError(["help", "nothing"])?.kind == .unknownSubcommand)
        #expect(usageError(["help", "--all"])?.kind == .unknownOption)
    }

    @Test func aCommandsOwnCheckIsAUsageErrorWithItsUsage() throws {
        let error = try parsed(["show", "x"]).usageError("x is not an item")
        #expect(error.kind == .invalid)
        #expect(error.description == "Error: x is not an item\nUsage: tool show <item>\n  See 'tool show --help' for more information.")
        #expect(CommandUsageError.exitStatus == 64)
    }

    @Test func hostileWordsAreQuotedBackTerminalSafe() throws {
        for arguments in [["run", "--\u{1B}]0;x\u{07}"], ["\u{1B}[2J\u{202E}"], ["show", "a", "b\u{9B}c"], ["--generate-completion-script", "\u{1B}"]] {
            let error = try #require(usageError(arguments))
            #expect(!error.description.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 || $0.value == 0x9B || $0.value == 0x202E },
                    "\(error.description)")
        }
    }

    @Test func helpAtEveryLevelAndHelpSubcommand() throws {
        let root = try output(["--help"])
        #expect(try output(["-h"]) == root)
        #expect(try output(["help"]) == root)
        #expect(try output([]) == root)  // nothing to run
        let run = try output(["run", "--help"])
        #expect(try output(["help", "run"]) == run)
        #expect(try output(["run", "--name", "x", "-h"]) == run)
        #expect(try output(["run", "--bogus", "--help"]) == run)  // help wins over a mistake
        #expect(run.hasPrefix("OVERVIEW: Run it.\n\nUSAGE: tool run [<target> ...]"))
        // After --, -h is an argument.
        #expect(try parsed(["run", "--", "-h"]).values("targets") == ["-h"])
    }

    @Test func versionWithLongAndShortNames() throws {
        #expect(try output(["--version"]) == "tool 1.0\n")
        #expect(try output(["-v"]) == "tool 1.0\n")
        #expect(try output(["run", "--version"]) == "tool 1.0\n")
    }

    @Test func helpLayout() throws {
        #expect(try output(["--help"]) == """
            OVERVIEW: A tool.

            Does things.

              tool run --name x    an example line that is longer than eighty columns, kept whole

            USAGE: tool [-v] <subcommand>

            OPTIONS:
              -v                      Show the version.
              --version               Show the version.
              -h, --help              Show help information.

            SUBCOMMANDS:
              run                     Run it.
              show                    Show one.

              See 'tool help <subcommand>' for detailed help.

            """)
        #expect(try output(["run", "--help"]) == """
            OVERVIEW: Run it.

            USAGE: tool run [<target> ...] [--name <name>] [--tag <tag> ...] [--dir <directory>] [--dry-run]

            ARGUMENTS:
              <target>                What to run on.

            OPTIONS:
              --name <name>           A name.
              --tag <tag>             A tag. Repeatable.
              --dir <directory>       Where. (default: /var/tool)
              --dry-run               Say what would happen.
              --version               Show the version.
              -h, --help              Show help information.


            """)
    }

    @Test func rowsWrapAtEightyColumnsAndLongLabelsTakeALineOfTheirOwn() throws {
        let help = String(repeating: "word ", count: 30).dropLast()
        let text = HelpText(chain: [CommandDescription(name: "t", abstract: "A.", parameters: [
            .option("a-rather-long-option-name", value: "value", help: String(help)),
        ])]).text
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.allSatisfy { $0.count <= 80 })
        let label = try #require(lines.firstIndex { $0 == "  --a-rather-long-option-name <value>" })
        #expect(lines[label + 1].hasPrefix(String(repeating: " ", count: 26) + "word word"))
    }

    @Test(arguments: [
        ("short text", 20, 0, "short text"),
        ("one two three four five", 10, 0, "one two\nthree\nfour five"),
        ("averyveryverylongword and more", 10, 0, "averyveryverylongword\nand more"),
        ("para one\n\npara two", 80, 0, "para one\n\npara two"),
        ("one two three four", 14, 4, "    one two\n    three four"),
        ("wrap this please\n  keep this indented line whole however long it is", 12, 0,
         "wrap this\nplease\n  keep this indented line whole however long it is"),
    ])
    func wrapping(text: String, width: Int, indent: Int, expected: String) {
        #expect(HelpText.wrap(text, width: width, indent: indent) == expected)
    }

    @Test func completionScriptsForEachShell() throws {
        #expect(try output(["--generate-completion-script", "bash"]) == CompletionScript(root: sample).script(for: .bash))
        #expect(try output(["--generate-completion-script=zsh"]) == CompletionScript(root: sample).script(for: .zsh))
        let bash = try output(["--generate-completion-script", "bash"])
        #expect(bash.contains("complete -F _tool tool"))
        #expect(bash.contains("options='--name --tag --dir --dry-run --version -h --help'"))
        #expect(bash.contains("local subcommands='run show help'"))
        #expect(bash.contains("compgen -d"))  // --dir is a directory
        let zsh = try output(["--generate-completion-script", "zsh"])
        #expect(zsh.hasPrefix("#compdef tool\n"))
        #expect(zsh.contains("'*--tag=[A tag. Repeatable.]:tag:'"))
        #expect(zsh.contains("'--dir=[Where.]:directory:_files -/'"))
        #expect(zsh.contains("'run:Run it.'"))
        // Autoloaded from $fpath as _tool it completes; sourced, it registers itself.
        #expect(zsh.contains("if [[ \"${funcstack[1]}\" == _tool ]]; then\n    _tool \"$@\"\nelse\n    compdef _tool tool\nfi\n"))
        let fish = try output(["--generate-completion-script", "fish"])
        #expect(fish.contains("complete -c 'tool' -n 'not __fish_seen_subcommand_from run show help' -a 'run' -d 'Run it.'"))
        #expect(fish.contains("complete -c 'tool' -n '__fish_seen_subcommand_from run' -l 'dry-run' -d 'Say what would happen.'"))
        #expect(fish.contains("-l 'dir' -r -a '(__fish_complete_directories)'"))
        let invalid = try #require(usageError(["--generate-completion-script", "ksh"]))
        #expect(invalid.kind == .invalidValue)
        #expect(usageError(["--generate-completion-script"])?.kind == .missingValue)
        #expect(usageError(["--generate-completion-script", "bash", "more"])?.kind == .unexpectedArgument)
    }

    @Test func quotingInTheScripts() {
        let tricky = CommandDescription(name: "t", abstract: "It's [odd]: \\ here", subcommands: [
            CommandDescription(name: "go", abstract: "Don't [stop]: now", parameters: [.flag("x", help: "It's: [x] \\")]),
        ])
        let script = CompletionScript(root: tricky)
        #expect(script.script(for: .zsh).contains(#"'go:Don'\''t [stop]: now'"#))
        #expect(script.script(for: .zsh).contains(#"'--x[It'\''s\: \[x\] \\]'"#))
        #expect(script.script(for: .fish).contains(#"-d 'Don\'t [stop]: now'"#))
        #expect(script.script(for: .fish).contains(#"-d 'It\'s: [x] \\'"#))
    }
}
