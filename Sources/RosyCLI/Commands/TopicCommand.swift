import ArgumentParser

/// `rosy topic ...`
struct TopicCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topic",
        abstract: "Topic commands: list, echo and send.",
        subcommands: [List.self, Echo.self, Send.self]
    )
}

extension TopicCommand {
    /// `rosy topic list`
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the topics that nodes listen to.",
            discussion: "Example: rosy topic list --discovery-time 2"
        )

        @OptionGroup var common: CommonOptions
        @OptionGroup var discovery: DiscoveryTimeOption

        func run() async throws {
            common.startLogging()
            let nodes = try await MeshSnapshot.discover(common: common, seconds: discovery.discoveryTime)
            for topic in Set(nodes.flatMap(\.topics)).sorted() { say(topic) }
        }
    }

    /// `rosy topic echo TOPIC... [--json]`
    struct Echo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Listen to topics and print each message received.",
            discussion: """
            Prints a timestamp, the topic, then the args and kwargs as Python reprs, as rosy does; \
            --json prints one JSON object per message instead: \
            {"timestamp": ..., "topic": ..., "args": [...], "kwargs": {...}}. Ctrl+C stops.
            Example: rosy topic echo my-topic --json
            """
        )

        @OptionGroup var common: CommonOptions

        @Option(help: "The node's name.")
        var name = "rosy topic echo"

        @Flag(help: "Print one JSON object per message, one per line.")
        var json = false

        @Argument(help: "The topics to listen to.")
        var topics: [String]

        func validate() throws {
            guard !topics.isEmpty else { throw ValidationError("give at least one topic to listen to") }
        }

        func run() async throws {
            common.startLogging()
            try await TopicEcho(common: common, name: name, topics: topics, json: json).run()
        }
    }

    /// `rosy topic send TOPIC [ARG|KEY=VALUE]... [--interval S] [--no-wait]`
    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a message to a topic.",
            discussion: """
            Each argument is a Python literal; KEY=VALUE makes a keyword argument. \
            Waits for a listener first unless --no-wait.
            Example: rosy topic send my-topic "'hello world'" 42 pi=3.14
            """
        )

        @OptionGroup var common: CommonOptions

        @Option(help: "The node's name.")
        var name = "rosy topic send"

        @Option(name: [.customShort("i"), .long], help: "Send again every S seconds until Ctrl+C (a negative value sends once).")
        var interval: Double = -1

        @Flag(help: "Send without waiting for a listener.")
        var noWait = false

        @Argument(help: "The topic to send to.")
        var topic: String

        @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Python literals, and KEY=VALUE keyword arguments.", valueName: "arg|key=value"))
        var arguments: [String] = []

        func run() async throws {
            common.startLogging()
            let message = try MessageArguments(parsing: arguments)  // a bad literal fails before any node starts
            try await TopicSend(common: common, name: name, topic: topic, message: message,
                                interval: interval, wait: !noWait).run()
        }
    }
}
