import ArgumentParser
import Foundation
import Rosy
import RosyDiscovery

/// `rosy-bench`: the Swift side of rosy's benchmarks (bench/README.md). bench/run starts a
/// responder and a driver in a private network namespace; the driver prints the results.
struct RosyBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rosy-bench",
        abstract: "Measures Swift rosy nodes: topics, latency, service calls, memory.",
        subcommands: [ResponderCommand.self, DriverCommand.self, NIOEchoCommand.self]
    )
}

/// A plain (not async) main that runs the command in a task and waits on a semaphore:
/// valgrind 3.19 crashes in the `dispatch_main` that an async top level ends in, and
/// callgrind is how a call's instructions are counted (bench/README.md, "Profiling a case").
@main
enum RosyBenchMain {
    static func main() {
        do {
            var command = try RosyBench.parseAsRoot()
            guard let asyncCommand = command as? any AsyncParsableCommand else {
                return try command.run()  // nio-echo: NIO's threads, this one waits
            }
            try runWaiting(asyncCommand)
        } catch {
            RosyBench.exit(withError: error)
        }
    }

    private static func runWaiting(_ command: any AsyncParsableCommand) throws {
        let run = Run(command)
        let finished = DispatchSemaphore(value: 0)
        Task.detached {
            await run.go()
            finished.signal()
        }
        finished.wait()
        if let error = run.failure { throw error }
    }

    /// The command and what it threw: handed to the task, read once the task has signalled.
    private final class Run: @unchecked Sendable {
        private var command: any AsyncParsableCommand
        private(set) var failure: (any Error)?
        init(_ command: any AsyncParsableCommand) { self.command = command }

        func go() async {
            do { try await command.run() } catch { failure = error }
        }
    }
}

struct SocketOption: ParsableArguments {
    @Option(help: "The socket kind both nodes offer: unix or tcp.")
    var socket: SocketKind
    @Option(help: "How the two nodes find each other: default (the node's own choice) or local (RosyDiscovery's registry directory alone).")
    var discovery: DiscoveryKind = .local
    @Option(help: "Microseconds each node's event loop polls for work before it sleeps (0: it sleeps at once, NIO's default).")
    var spinMicroseconds = 0

    /// Node options offering only the chosen socket kind, on loopback, without load balancing.
    func nodeOptions() -> NodeOptions {
        var options = socket.nodeOptions()
        let domain = ProcessInfo.processInfo.environment["ROSY_DOMAIN_ID"] ?? "default"
        switch discovery {
        case .default: break
        case .local: options.discovery = makeDefaultDiscovery(domainID: domain, choice: .local)
        }
        if spinMicroseconds > 0 {
            options.eventLoopGroup = BusyPolling.eventLoopGroup(window: .microseconds(Int64(spinMicroseconds)))
        }
        return options
    }
}

enum DiscoveryKind: String, ExpressibleByArgument, Sendable {
    case `default`, local
}

struct ResponderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "responder",
        abstract: "Counts received messages and answers the echo and result services."
    )

    @OptionGroup var socketOption: SocketOption

    func run() async throws {
        try await Responder.run(socket: socketOption.socket, options: socketOption.nodeOptions())
    }
}

struct DriverCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "driver",
        abstract: "Runs every case against the responder and prints one JSON line per case."
    )

    @OptionGroup var socketOption: SocketOption
    @Option(help: "Seconds per throughput or service case.")
    var seconds = 2.0
    @Option(help: "Seconds of the fixed-rate latency case.")
    var latencySeconds = 3.0
    @Option(help: "Messages per second of the latency case.")
    var rate = 1000.0
    @Option(help: "Payload sizes in bytes, comma separated.")
    var sizes = "0,1000,65536,1048576"
    @Option(help: "Which cases to run, comma separated: throughput, latency, service; service1 or service64 alone (for profiling).")
    var cases = "throughput,latency,service"
    @Option(help: "Only a full-speed run of this many seconds, sampling RSS every 10 s.")
    var longRun: Double?

    func validate() throws {
        guard parsedSizes != nil else { throw ValidationError("--sizes: comma-separated byte counts") }
        guard seconds > 0, latencySeconds > 0, rate > 0 else {
            throw ValidationError("--seconds, --latency-seconds and --rate must be positive")
        }
    }

    private var parsedSizes: [Int]? {
        let sizes = sizes.split(separator: ",").map { Int($0) }
        return sizes.contains(nil) ? nil : sizes.compactMap { $0 }
    }

    func run() async throws {
        let driver = Driver(
            socket: socketOption.socket, options: socketOption.nodeOptions(), seconds: seconds, latencySeconds: latencySeconds,
            rate: rate, sizes: parsedSizes ?? [], cases: Set(cases.split(separator: ",").map(String.init)),
            longRunSeconds: longRun)
        try await driver.run()
    }
}

/// Which socket kind a benchmark session uses.
enum SocketKind: String, ExpressibleByArgument, Sendable {
    case unix, tcp

    /// Node options offering only this kind, on loopback, without load balancing.
    func nodeOptions() -> NodeOptions {
        var options = NodeOptions()
        options.allowUnixConnections = self == .unix
        options.allowTCPConnections = self == .tcp
        options.serverHosts = ["127.0.0.1"]
        options.advertisedHost = "127.0.0.1"
        options.topicLoadBalancer = .everyListener
        return options
    }
}

/// The topic names of bench/README.md, shared with the Python harness.
enum BenchTopic {
    static let throughput = "t"
    static let latency = "lat"
}
