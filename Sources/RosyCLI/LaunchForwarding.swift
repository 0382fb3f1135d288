import RosyLaunch

/// `rosy launch ARGS...` runs `rosy-launch ARGS...` in this process.
enum LaunchForwarding {
    static func run(_ arguments: [String]) async throws {
        // rosy-launch's own parser, help and errors; it exits the process on an error.
        RosyLaunchCommand.main(arguments)
    }
}
