import Foundation
import Rosy
import RosyWire
import Synchronization

/// `rosy speedtest send|recv`, line for line as rosy 0.8.3's speedtest, plus a summary line.
///
/// The sender sends on its node's executor, as rosy's sends on its node's event loop, and
/// with `--sleep-time 0` checks the clock once per batch of messages instead of pausing
/// after each one. Before `stop` a Swift sender tells a Swift receiver how many test
/// messages it sent, on a topic of its own that Python's receiver does not listen to (its
/// `stop` handler takes no arguments), so either side can still be Python.
struct Speedtest {
    var options: SpeedtestOptions

    /// The topic that carries the sender's count: `(count,)`, sent only when someone listens.
    static let sentCountTopic = "speedtest-sent-count"
    /// Messages sent between two looks at the clock when there is no sleep between sends.
    static let batch = 64

    private func startNode(role: String) async throws -> Node {
        let options = options
        return try await NodeSession.start(name: "rosy speedtest \(role)", domainID: CommonOptions.domainID(options.domainId),
                                           codec: options.codec, logLevel: .warning) { nodeOptions in
            nodeOptions.allowUnixConnections = !options.disableUnix
            nodeOptions.allowTCPConnections = !options.disableTcp
            if !options.enableLoadBalancer {
                nodeOptions.topicLoadBalancer = EveryListenerBalancer()
            }
        }
    }

    /// Sends `warmup` for 1 s, then `(time.time(), 'A' * size)` on the topic for the run
    /// time, then `stop`; prints the messages sent per second (as rosy) and a summary.
    func send() async throws {
        let node = try await startNode(role: "send")
        let topic = options.topic
        do {
            try await Interruption.run { [options] in
                say("Waiting for listeners...")
                await node.waitForListener(topic)
                try Task.checkCancellation()
                say("Running speed test for \(pythonFloatRepr(options.runTime))s with message_size=\(options.messageSize)...")
                let payload = Value.string(String(repeating: "A", count: options.messageSize))
                let perPause = options.sleepTime > 0 ? 1 : Self.batch
                // On the node's own executor, as rosy's sender runs on its node's event loop.
                try await withTaskExecutorPreference(node.taskExecutor) {
                    let warmupEnd = ContinuousClock.now + .seconds(1)
                    while ContinuousClock.now < warmupEnd {
                        for _ in 0..<perPause { try await node.send("warmup", args: []) }
                        try await pause(options.sleepTime)
                    }
                    var count = 0
                    let start = ContinuousClock.now
                    var end = start
                    let runTime = Duration.seconds(options.runTime)
                    while true {
                        end = ContinuousClock.now
                        if end - start >= runTime { break }
                        for _ in 0..<perPause {
                            try await node.send(topic, args: [.tuple([.double(wallClockSeconds()), payload])])
                        }
                        count += perPause
                        try await pause(options.sleepTime)
                    }
                    if node.hasListeners(Self.sentCountTopic) {
                        try await node.send(Self.sentCountTopic, args: [.int(Int64(count))])
                    }
                    try await node.send("stop", args: [])
                    let seconds = (end - start).seconds
                    let mps = Double(count) / seconds
                    let label = "[\(NodeListing.display(node.id))]"
                    say("\(label) mps=\(Int(mps.rounded()))")
                    say("\(label) Summary: messages=\(count) duration=\(fixed(seconds, 3))s mps=\(Int(mps.rounded())) "
                        + "MB/s=\(fixed(mps * Double(options.messageSize) / 1e6, 3))")
                }
            }
        } catch {
            await node.stop()
            throw error
        }
        await node.stop()
    }

    /// Counts test messages until `stop`; prints each second the count, messages per second
    /// and mean latency (as rosy), then a summary with p50/p99 latency and messages lost.
    func receive() async throws {
        let node = try await startNode(role: "recv")
        let stats = SpeedStats()
        let stopped = Atomic<Bool>(false)
        let label = "[\(NodeListing.display(node.id))]"
        try await node.listen("warmup") { _ in }
        try await node.listen(options.topic) { message in
            let now = wallClockSeconds()
            guard let data = message.args.first?.arrayValue, data.count == 2,
                  let sent = data[0].doubleValue else { return }
            let size = data[1].stringValue?.utf8.count ?? data[1].bytesValue?.count ?? 0
            stats.record(sentAt: sent, receivedAt: now, bytes: size)
        }
        try await node.listen(Self.sentCountTopic) { message in
            if let count = message.args.first?.intValue { stats.senderSent(Int(count)) }
        }
        try await node.listen("stop") { _ in
            say("\(label) Received stop signal")
            stopped.store(true, ordering: .releasing)
        }
        say("\(label) Listening to topic=\(options.topic.pythonQuoted); waiting for a sender...")
        do {
            try await Interruption.run {
                // As rosy's loop: a line each second the count changed (the first second's
                // too, count 0), and after `stop` the rest of that second and its line.
                var last: Int?
                while !stopped.load(ordering: .acquiring) {
                    try await Task.sleep(for: .seconds(1))
                    let snapshot = stats.snapshot()
                    if snapshot.count != last {
                        say("\(label) Received message count: \(snapshot.count); mps=\(snapshot.count - (last ?? 0))")
                        say("\(label) Avg latency: \(pythonFloatRepr(snapshot.meanLatency))s")
                        last = snapshot.count
                    }
                }
            }
        } catch {
            await node.stop()
            throw error
        }
        await node.stop()
        say(stats.summary(label: label))
    }

    private func pause(_ seconds: Double) async throws {
        if seconds > 0 { try await Task.sleep(for: .seconds(seconds)) }
        try Task.checkCancellation()
    }
}

/// `time.time()`: seconds since 1970 as a Double.
private func wallClockSeconds() -> Double {
    Double(nanosecondsNow()) / 1e9
}
