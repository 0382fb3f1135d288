import ArgumentParser

/// `rosy service ...`
struct ServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "service",
        abstract: "Service commands: list and call.",
        subcommands: [List.self, Call.self]
    )
}

extension ServiceCommand {
    /// `rosy service list`
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the services that nodes provide.",
            discussion: "Example: rosy service list --discovery-time 2"
        )

        @OptionGroup var common: CommonOptions
        @OptionGroup var discovery: DiscoveryTimeOption

        func run() async throws {
            common.startLogging()
            let nodes = try await MeshSnapshot.discover(common: common, seconds: discovery.discoveryTime)
            for service in Set(nodes.flatMap(\.services)).sorted() { say(service) }
        }
    }

    /// `rosy service call SERVICE [ARG|KEY=VALUE]... [--interval S] [--no-wait]`
    struct Call: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Call a service and print its response.",
            discussion: """
            Each argument is a Python literal; KEY=VALUE makes a keyword argument. \
            Waits for a provider first unless --no-wait, which fails at once when there is none.
            Example: rosy service call multiply 2 3
            """
        )

        @OptionGroup var common: CommonOptions

        @Option(help: "The node's name.")
        var name = "rosy service call"

        @Option(name: [.customShort("i"), .long], help: "Call again every S seconds until Ctrl+C (a negative value calls once).")
        var interval: Double = -1

        @Option(help: "Seconds to wait for each response.")
        var timeout: Double = 30

        @Flag(help: "Call without waiting for a provider.")
        var noWait = false

        @Argument(help: "The service to call.")
        var service: String

        @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Python literals, and KEY=VALUE keyword arguments.", valueName: "arg|key=value"))
        var arguments: [String] = []

        func run() async throws {
            common.startLogging()
            let message = try MessageArguments(parsing: arguments)
            try await ServiceCall(common: common, name: name, service: service, message: message,
                                  interval: interval, timeout: timeout, wait: !noWait).run()
        }
    }
}
