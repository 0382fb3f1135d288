import ArgumentParser

/// `rosy topic ...`
struct TopicCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topic",
        abstract: "Topic commands: list, echo, send, hz and bw.",
        subcommands: [List.self, Echo.self, Send.self, Hz.self, Bw.self]
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

    /// `rosy topic hz TOPIC [--window N] [--json]`
    struct Hz: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the rate of a topic's messages every second.",
            discussion: """
            As ros2 topic hz: every second, the average rate and the min, max and standard \
            deviation of the period between messages, over the last N periods (default 10000, \
            as ros2), as received here. Nothing is printed until two messages came; then a \
            second with no message prints 'no new messages' (also once the sender is gone). \
            --json prints one object per line instead: {"time": UNIX_S, "topic": ..., \
            "rate_hz": ..., "min_s": ..., "max_s": ..., "std_s": ..., "window": N, \
            "new_messages": K}, or {"time": ..., "topic": ..., "new_messages": 0}. Ctrl+C stops.
            Example: rosy topic hz my-topic --window 100
            """
        )

        @OptionGroup var common: CommonOptions

        @Option(help: "The node's name.")
        var name = "rosy topic hz"

        @Option(name: [.customShort("w"), .long], help: "How many periods between messages to measure over.")
        var window = 10_000

        @Flag(help: "Print one JSON object per second, one per line.")
        var json = false

        @Argument(help: "The topic to listen to.")
        var topic: String

        func validate() throws {
            if let problem = TopicName.problem(with: topic) { throw ValidationError(problem) }
            guard window >= 1 else { throw ValidationError("--window must be 1 or more") }
        }

        func run() async throws {
            common.startLogging()
            try await TopicRateMonitor(common: common, name: name, topic: topic, measure: .rate,
                                       window: window, json: json).run()
        }
    }

    /// `rosy topic bw TOPIC [--window N] [--json]`
    struct Bw: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the bandwidth of a topic's messages every second.",
            discussion: """
            As ros2 topic bw: every second, the bytes per second and the mean, min and max \
            message size over the last N messages (default 100, as ros2). A message's size is \
            its frame as received on the wire (prefix, topic, args and kwargs with their \
            lengths), not an estimate; 1 KB is 1000 B. Bytes per second are the window's bytes \
            over the time from its oldest message to now, so they fall once messages stop. \
            --json prints one object per line instead: {"time": UNIX_S, "topic": ..., \
            "bytes_per_s": ..., "messages": N, "mean_bytes": ..., "min_bytes": ..., \
            "max_bytes": ...}. Ctrl+C stops.
            Example: rosy topic bw my-topic --json
            """
        )

        @OptionGroup var common: CommonOptions

        @Option(help: "The node's name.")
        var name = "rosy topic bw"

        @Option(name: [.customShort("w"), .long], help: "How many messages to measure over.")
        var window = 100

        @Flag(help: "Print one JSON object per second, one per line.")
        var json = false

        @Argument(help: "The topic to listen to.")
        var topic: String

        func validate() throws {
            if let problem = TopicName.problem(with: topic) { throw ValidationError(problem) }
            guard window >= 2 else { throw ValidationError("--window must be 2 or more (a bandwidth needs two messages)") }
        }

        func run() async throws {
            common.startLogging()
            try await TopicRateMonitor(common: common, name: name, topic: topic, measure: .bandwidth,
                                       window: window, json: json).run()
        }
    }
}
