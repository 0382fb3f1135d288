import ArgumentParser

/// `rosy speedtest send|recv`
struct SpeedtestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "speedtest",
        abstract: "Measure message throughput and latency between two nodes.",
        discussion: """
        Sends the same messages as rosy 0.8.3's speedtest, so either side can be Python: \
        'warmup' messages for 1 s, then on the test topic one arg, the tuple \
        (send time, 'A' * message size), then 'stop'.
        Example: rosy speedtest recv & rosy speedtest send --run-time 5
        """,
        subcommands: [Send.self, Recv.self]
    )
}

/// Options both speedtest roles share.
struct SpeedtestOptions: ParsableArguments {
    @Option(help: "The domain id (default: $ROSY_DOMAIN_ID, else 'default').")
    var domainId: String?

    @Option(help: "Size of each message's string in bytes.")
    var messageSize = 0

    @Option(help: "Seconds to pause between two sends.")
    var sleepTime: Double = 0

    @Option(help: "Seconds the test runs.")
    var runTime: Double = 10

    @Option(help: "The test topic.")
    var topic = "t"

    @Option(help: "The data codec: pickle, json or msgpack.")
    var codec: CodecName = .pickle

    @Flag(help: "Use the default load balancer (off for speed tests, as in rosy).")
    var enableLoadBalancer = false

    @Flag(help: "Do not use Unix sockets between nodes.")
    var disableUnix = false

    @Flag(help: "Do not use TCP between nodes.")
    var disableTcp = false

    func validate() throws {
        guard messageSize >= 0 else { throw ValidationError("--message-size must be 0 or more") }
        guard runTime > 0, runTime.isFinite else { throw ValidationError("--run-time must be more than 0") }
        guard sleepTime >= 0 else { throw ValidationError("--sleep-time must be 0 or more") }
        guard !(disableUnix && disableTcp) else { throw ValidationError("--disable-unix and --disable-tcp leave no way to connect") }
    }
}

extension SpeedtestCommand {
    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send test messages and report messages sent per second.")

        @OptionGroup var options: SpeedtestOptions

        func run() async throws {
            CommonOptions.startLogging(level: .warning)
            try await Speedtest(options: options).send()
        }
    }

    struct Recv: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Receive test messages; report messages per second, latency and bandwidth.")

        @OptionGroup var options: SpeedtestOptions

        func run() async throws {
            CommonOptions.startLogging(level: .warning)
            try await Speedtest(options: options).receive()
        }
    }
}
