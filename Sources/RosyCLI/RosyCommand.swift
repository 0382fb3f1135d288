import ArgumentParser
import Foundation

/// The `rosy` command: inspect and drive a rosy mesh from the shell.
///
/// The executable's `main.swift` is one line:
///
/// ```swift
/// await RosyCommand.runAndExit()
/// ```
public struct RosyCommand: AsyncParsableCommand {
    public static let version = "0.1.0 (compatible with rosy 0.8.3)"

    public static let configuration = CommandConfiguration(
        commandName: "rosy",
        abstract: "Inspect and drive a rosy mesh: nodes, topics, services, recordings.",
        discussion: """
        Nodes find each other by DNS-SD in a domain: `rosy --domain-id ID COMMAND ...` (or \
        --domain-id after the command), else $ROSY_DOMAIN_ID, else 'default'. They talk rosy 0.8.3's wire format, so these commands work with \
        Python rosy nodes too. Arguments of `topic send` and `service call` are Python \
        literals: 'hello world', 42, 3.14, True, None, b'raw', [1, 2], (1, 'a'), {'key': [1, 2]}; \
        KEY=VALUE makes a keyword argument.
        """,
        version: version,
        subcommands: [
            NodeCommand.self, TopicCommand.self, ServiceCommand.self,
            LaunchCommand.self, BagCommand.self, SpeedtestCommand.self, FoxgloveCommand.self,
        ]
    )

    public init() {}

    /// Parses the process's arguments, runs the chosen command and exits.
    ///
    /// An error ends the process with one line on stderr (`Error: ...`) and a non-zero
    /// status; `--help` and `--version` print to stdout and exit 0.
    public static func runAndExit(_ arguments: [String]? = nil) async -> Never {
        var arguments = arguments ?? Array(CommandLine.arguments.dropFirst())
        if arguments.isEmpty {
            say(helpMessage())
            exitProcess(2)
        }
        moveGlobalOptionsToEnvironment(&arguments)
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            exitProcess(0)
        } catch {
            reportAndExit(error)
        }
    }

    /// `rosy --domain-id X COMMAND ...`: a domain id before the command applies to every
    /// node the command builds, through `ROSY_DOMAIN_ID` (a later `--domain-id` still wins).
    static func moveGlobalOptionsToEnvironment(_ arguments: inout [String]) {
        var index = 0
        while index < arguments.count, arguments[index].hasPrefix("-") {
            let word = arguments[index]
            if word == "--domain-id", index + 1 < arguments.count {
                setenv("ROSY_DOMAIN_ID", arguments[index + 1], 1)
                arguments.removeSubrange(index...(index + 1))
            } else if word.hasPrefix("--domain-id=") {
                setenv("ROSY_DOMAIN_ID", String(word.dropFirst("--domain-id=".count)), 1)
                arguments.remove(at: index)
            } else {
                index += 1
            }
        }
    }

    static func reportAndExit(_ error: any Error) -> Never {
        if let exit = error as? ExitCode { exitProcess(exit.rawValue) }
        let code = exitCode(for: error)
        if code == .success {
            say(fullMessage(for: error))
            exitProcess(0)
        }
        let text: String
        switch error {
        case let error as CLIError: text = error.description
        case let error as LiteralError: text = error.description
        default: text = message(for: error)
        }
        printError(text)
        exitProcess(code.rawValue == 0 ? 1 : code.rawValue)
    }
}

/// Writes `text` and `terminator` to stdout at once, unbuffered (a write(2) per call), so
/// `rosy topic echo | grep` sees each message when it arrives. The commands use this, not `print`.
func say(_ text: String = "", terminator: String = "\n") {
    FileHandle.standardOutput.write(Data((text + terminator).utf8))
}

/// Prints `Error: TEXT` on stderr.
func printError(_ text: String) {
    var line = text
    if !line.hasPrefix("Error: ") { line = "Error: " + line }
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

func exitProcess(_ status: Int32) -> Never {
    fflush(nil)
    exit(status)
}
