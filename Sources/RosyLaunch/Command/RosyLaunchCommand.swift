import ArgumentParser
import Foundation

/// `rosy-launch`: runs a launch file, and controls a running launch. `rosy launch` is the same
/// command (the `rosy` CLI lists this type among its subcommands).
///
/// ```swift
/// RosyLaunchCommand.main()                           // rosy-launch robot.yaml
/// RosyLaunchCommand.main(["status"])                 // rosy-launch status
/// ```
public struct RosyLaunchCommand: ParsableCommand {
    public static let configuration = makeConfiguration(commandName: "rosy-launch")

    /// The same command under another name: the `rosy` CLI declares
    /// `struct Launch: ParsableCommand { static let configuration = RosyLaunchCommand.makeConfiguration(commandName: "launch") }`.
    public static func makeConfiguration(commandName: String) -> CommandConfiguration {
        CommandConfiguration(
        commandName: commandName,
        abstract: "Start a robot's rosy nodes, keep them running and stop them cleanly.",
        discussion: """
            With a launch file (default launch.yaml) it starts the file's nodes in order, restarts \
            them by their policy, shows their output prefixed with their names and stops them all \
            on Ctrl+C or SIGTERM. The other subcommands talk to a running launch through its \
            control socket. See rosy-launch(1) and rosy-launch.yaml(5).
            """,
        version: "0.8.3",
        subcommands: [Run.self, Status.self, Start.self, Stop.self, Restart.self, Logs.self, Shutdown.self],
        defaultSubcommand: Run.self)
    }

    public init() {}
}

/// Picks the launch a control command talks to.
public struct LaunchSelection: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The launch to control: its file or name (default: the only one running).",
                                            valueName: "name"))
    public var launch: String?

    @Option(name: .long, help: ArgumentHelp("The control socket of the launch.", valueName: "path"))
    public var socket: String?

    public init() {}

    func client() throws -> ControlClient {
        ControlClient(socket: try ControlClient.findSocket(launch: launch, socket: socket))
    }
}

extension RosyLaunchCommand {
    /// Sends a command that names nodes.
    static func send(_ verb: String, _ nodes: [String], _ selection: LaunchSelection) throws {
        do {
            let reply = try selection.client().command(([verb] + nodes).joined(separator: " "))
            print(reply)
        } catch let error as ControlError {
            throw ValidationError(error.description)
        }
    }

    public struct Start: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Start stopped or failed nodes of a running launch.")
        @Argument(help: "Nodes (or copies, e.g. camera-2).") var nodes: [String]
        @OptionGroup var selection: LaunchSelection
        public init() {}
        public func run() throws { try RosyLaunchCommand.send("start", nodes, selection) }
    }

    public struct Stop: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Stop nodes of a running launch (they stay down until started).")
        @Argument(help: "Nodes (or copies, e.g. camera-2).") var nodes: [String]
        @OptionGroup var selection: LaunchSelection
        public init() {}
        public func run() throws { try RosyLaunchCommand.send("stop", nodes, selection) }
    }

    public struct Restart: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Stop and start nodes of a running launch.")
        @Argument(help: "Nodes (or copies, e.g. camera-2).") var nodes: [String]
        @OptionGroup var selection: LaunchSelection
        public init() {}
        public func run() throws { try RosyLaunchCommand.send("restart", nodes, selection) }
    }

    public struct Shutdown: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Stop a running launch, as Ctrl+C would.")
        @OptionGroup var selection: LaunchSelection
        public init() {}
        public func run() throws { try RosyLaunchCommand.send("shutdown", [], selection) }
    }

    public struct Status: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Show the nodes of a running launch: copy, pid, state, restarts, uptime, last exit.")
        @OptionGroup var selection: LaunchSelection
        @Flag(help: "Print the status as JSON.") var json = false
        public init() {}

        public func run() throws {
            let status: LaunchStatus
            do { status = try selection.client().status() } catch let error as ControlError {
                throw ValidationError(error.description)
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(status), as: UTF8.self))
                return
            }
            print("launch \(status.file) (pid \(status.pid), \(status.phase))"
                  + (status.domainID.map { ", domain \($0)" } ?? "")
                  + (status.logDirectory.map { ", logs in \($0)" } ?? ""))
            let header = ["NODE", "COPY", "PID", "STATE", "RESTARTS", "UPTIME", "LAST EXIT"]
            let rows = status.nodes.map { node in
                [node.label, String(node.copy), node.pid.map(String.init) ?? "-", node.state,
                 String(node.restarts), node.uptime.map(Self.uptime) ?? "-",
                 node.failure ?? node.lastExit ?? "-"]
            }
            print(Table.render([header] + rows))
        }

        static func uptime(_ seconds: Double) -> String {
            let s = Int(seconds)
            if s < 60 { return "\(s)s" }
            if s < 3600 { return "\(s / 60)m\(s % 60)s" }
            return "\(s / 3600)h\(s % 3600 / 60)m"
        }
    }
}

/// Plain aligned columns.
enum Table {
    static func render(_ rows: [[String]]) -> String {
        guard let columns = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: columns)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
