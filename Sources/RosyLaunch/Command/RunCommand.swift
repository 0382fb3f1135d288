import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension RosyLaunchCommand {
    /// `rosy-launch [FILE]`: run a launch file (the default subcommand).
    public struct Run: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Run a launch file: start its nodes, keep them running, stop them on Ctrl+C.")

        @Argument(help: "The launch file.")
        var file = "launch.yaml"

        @Flag(help: "Only check the file (and the files it includes) and report problems.")
        var check = false

        @Flag(help: "Print what would start, and how, without starting anything.")
        var dryRun = false

        @Option(name: [.short, .long], parsing: .upToNextOption, help: ArgumentHelp("Nodes not to start.", valueName: "node"))
        var exclude: [String] = []

        @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Start only these nodes.", valueName: "node"))
        var only: [String] = []

        @Option(help: ArgumentHelp("ROSY_DOMAIN_ID for every node (overrides the file's domain_id).", valueName: "id"))
        var domainId: String?

        @Option(help: ArgumentHelp("Folder for the runs' log folders (default: the file's log_dir, else ~/.rosy/log).",
                                   valueName: "path"))
        var logDir: String?

        @Flag(help: "Write no log files (terminal output only).")
        var noLogFiles = false

        @Flag(help: "Prefix terminal lines with the time.")
        var timestamps = false

        @Option(help: ArgumentHelp("Colour node names: auto (on a terminal, unless NO_COLOR is set), always, never.",
                                   valueName: "when"))
        var color: ColorChoice = .auto

        @Option(help: ArgumentHelp("Path of the control socket (default: $XDG_RUNTIME_DIR/rosy-launch/NAME.sock).",
                                   valueName: "path"))
        var socket: String?

        public init() {}

        enum ColorChoice: String, ExpressibleByArgument { case auto, always, never }

        public func run() throws {
            let config: LaunchConfig
            do {
                config = try LaunchConfigLoader().load(path: file)
            } catch let error as LaunchConfigError {
                FileHandle.standardError.write(Data("rosy-launch: \(error)\n".utf8))
                throw ExitCode(2)
            }
            let environment = ProcessInfo.processInfo.environment
            var options = LaunchOptions(hostName: Posix.hostName(), environment: environment)
            options.domainID = domainId
            options.exclude = exclude
            options.only = only
            options.logDirectory = logDir
            options.writeLogFiles = !noLogFiles
            options.timestamps = timestamps ? true : nil
            options.controlSocket = socket ?? ControlClient.socketPath(forLaunchFile: file, environment: environment)
            switch color {
            case .always: options.color = true
            case .never: options.color = false
            case .auto: options.color = isatty(1) == 1 && (environment["NO_COLOR"] ?? "").isEmpty
                && environment["TERM"] != "dumb"
            }
            options.meshReadiness = RosyLaunchCommand.meshReadiness

            let plan: LaunchPlan
            do {
                plan = try LaunchPlan(config: config, options: options)
            } catch let error as LaunchConfigError {
                FileHandle.standardError.write(Data("rosy-launch: \(error)\n".utf8))
                throw ExitCode(2)
            }
            if check {
                let copies = plan.entries.map(\.copies.count).reduce(0, +)
                print("\(file): ok, \(config.nodes.count) nodes (\(copies) processes start on this host)")
                return
            }
            if dryRun {
                print(DryRun.describe(config: config, plan: plan))
                return
            }
            var runDirectory: String?
            if options.writeLogFiles {
                runDirectory = try RunDirectory.create(base: logDir ?? config.logDirectory, file: file,
                                                       environment: environment)
            }
            let supervisor: Supervisor
            do {
                supervisor = try Supervisor(config: config, options: options, runDirectory: runDirectory)
            } catch {
                FileHandle.standardError.write(Data("rosy-launch: \(error)\n".utf8))
                throw ExitCode(1)
            }
            let status = supervisor.run()
            if status != 0 { throw ExitCode(status) }
        }
    }

    /// How `wait_for` watches the mesh: by default the discovery a node of the launch's domain
    /// uses (`makeDefaultDiscovery`, so `ROSY_DISCOVERY` applies too). A program embedding
    /// rosy-launch may set another before `main()`.
    nonisolated(unsafe) public static var meshReadiness: MeshReadinessFactory = defaultMeshReadiness
}

/// `--dry-run` output.
enum DryRun {
    static func describe(config: LaunchConfig, plan: LaunchPlan) -> String {
        var lines = ["launch \(config.path)" + (plan.domainID.map { ", ROSY_DOMAIN_ID=\($0)" } ?? "")]
        for entry in plan.entries {
            let node = entry.node
            var details = ["restart \(node.restart.rawValue)"]
            if node.required { details.append("required") }
            if node.preDelay > 0 { details.append("pre_delay \(node.preDelay)s") }
            if node.postDelay > 0 { details.append("post_delay \(node.postDelay)s") }
            if !node.after.isEmpty { details.append("after \(node.after.joined(separator: ", "))") }
            if !node.waitFor.isEmpty { details.append("wait_for \(node.waitFor.map(\.description).joined(separator: ", "))") }
            if let cwd = node.workingDirectory { details.append("cwd \(cwd)") }
            lines.append("start \(node.name) (\(details.joined(separator: ", ")))")
            for (label, arguments) in zip(entry.copies, entry.arguments) {
                lines.append("  \(label): \(arguments.map(quote).joined(separator: " "))")
            }
        }
        for (name, reason) in plan.skipped { lines.append("skip \(name): \(reason)") }
        return lines.joined(separator: "\n")
    }

    static func quote(_ argument: String) -> String {
        let plain = argument.allSatisfy { $0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0) }
        return plain && !argument.isEmpty ? argument : "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// The folder of one run's logs: `<log_dir>/<name>-<date>-<time>-<pid>`, and `<name>-latest`
/// pointing at it.
enum RunDirectory {
    static func create(base: String?, file: String, environment: [String: String]) throws -> String {
        let home = environment["HOME"] ?? NSHomeDirectory()
        var folder = EnvironmentExpansion.expand(base ?? "~/.rosy/log", in: environment)
        if folder == "~" || folder.hasPrefix("~/") { folder = home + folder.dropFirst() }
        if !folder.hasPrefix("/") {
            folder = URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(folder).path
        }
        let name = ControlClient.launchName(file)
        // strftime rather than DateFormatter: ICU's data would cost the supervisor megabytes.
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let length = strftime(&buffer, buffer.count, "%Y%m%d-%H%M%S", &parts)
        let stamp = String(decoding: buffer.prefix(length).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let run = "\(name)-\(stamp)-\(getpid())"
        let path = folder + "/" + run
        try LogWriter.makeDirectories(path)
        let latest = folder + "/" + name + "-latest"
        unlink(latest)
        symlink(run, latest)
        return path
    }
}
