import ArgumentParser

/// `rosy launch ...` is `rosy-launch ...`: every argument goes to the supervisor's command.
struct LaunchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launch",
        abstract: "Start and supervise the nodes of a launch file (same as rosy-launch).",
        discussion: "Example: rosy launch launch.yaml -e slow-node. See rosy-launch --help.",
        helpNames: []
    )

    @Argument(parsing: .captureForPassthrough, help: "Arguments for rosy-launch.")
    var arguments: [String] = []

    func run() async throws {
        try await LaunchForwarding.run(arguments)
    }
}
