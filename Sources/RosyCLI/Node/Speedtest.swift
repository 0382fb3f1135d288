import Foundation
import Rosy
import RosyWire
import Synchronization

/// `rosy speedtest send|recv`, message for message as rosy 0.8.3's speedtest.
struct Speedtest {
    var options: SpeedtestOptions

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
    /// time, then `stop`; prints the messages sent per second.
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
                // On the node's own executor, as rosy's sender runs on its node's event loop.
                try await withTaskExecutorPreference(node.taskExecutor) {
                    let warmupEnd = ContinuousClock.now + .seconds(1)
                    while ContinuousClock.now < warmupEnd {
                        try await node.send("warmup", args: [])
                        try await pause(options.sleepTime)
                    }
                    var count = 0
                    let start = ContinuousClock.now
                    var end = start
                    let runTime = Duration.seconds(options.runTime)
                    while true {
                        end = ContinuousClock.now
                        if end - start >= runTime { break }
                        let sendTime = Double(nanosecondsNow()) / 1e9
                        try await node.send(topic, args: [.tuple([.double(sendTime), payload])])
                        count += 1
                        try await pause(options.sleepTime)
                    }
                    try await node.send("stop", args: [])
                    let seconds = (end - start).seconds
                    say("[\(NodeListing.display(node.id))] mps=\(Int((Double(count) / seconds).rounded()))")
                }
            }
        } catch {
            await node.stop()
            throw error
        }
        await node.stop()
    }

    /// Counts test messages until `stop`: prints each second the count and messages per
    /// second, and at the end messages per second, mean and p99 latency and bandwidth.
    func receive() async throws {
        let node = try await startNode(role: "recv")
        let stats = SpeedStats()
        let (stopped, stop) = AsyncStream.makeStream(of: Void.self)
        let label = "[\(NodeListing.display(node.id))]"
        try await node.listen("warmup") { _ in }
        try await node.listen(options.topic) { message in
            let now = Double(nanosecondsNow()) / 1e9
            guard let data = message.args.first?.arrayValue, data.count == 2,
                  let sent = data[0].doubleValue else { return }
            let size = data[1].stringValue?.utf8.count ?? data[1].bytesValue?.count ?? 0
            stats.record(latency: now - sent, bytes: size)
        }
        try await node.listen("stop") { _ in
            say("\(label) Received stop signal")
            stop.yield()
        }
        say("\(label) Listening to topic=\(options.topic.pythonQuoted); waiting for a sender...")
        do {
            try await Interruption.run {
                let reporter = Task {
                    var last = 0
                    while !Task.isCancelled {
                        try await Task.sleep(for: .seconds(1))
                        let snapshot = stats.snapshot()
                        if snapshot.count != last {
                            say("\(label) Received message count: \(snapshot.count); mps=\(snapshot.count - last)")
                            say("\(label) Avg latency: \(pythonFloatRepr(snapshot.meanLatency))s")
                            last = snapshot.count
                        }
                    }
                }
                for await _ in stopped { break }
                reporter.cancel()
            }
        } catch {
            await node.stop()
            throw error
        }
        await node.stop()
        say(stats.summary())
    }

    private func pause(_ seconds: Double) async throws {
        if seconds > 0 { try await Task.sleep(for: .seconds(seconds)) } else { await Task.yield() }
        try Task.checkCancellation()
    }
}

/// What the receiver measured.
final class SpeedStats: Sendable {
    private struct State {
        var latencies: [Float] = []
        var latencySum = 0.0
        var bytes = 0
        var first: ContinuousClock.Instant?
        var last: ContinuousClock.Instant?
    }

    private let state = Mutex(State())

    func record(latency: Double, bytes: Int) {
        let now = ContinuousClock.now
        state.withLock { s in
            s.latencies.append(Float(latency))
            s.latencySum += latency
            s.bytes += bytes
            if s.first == nil { s.first = now }
            s.last = now
        }
    }

    func snapshot() -> (count: Int, meanLatency: Double) {
        state.withLock { s in (s.latencies.count, s.latencies.isEmpty ? 0 : s.latencySum / Double(s.latencies.count)) }
    }

    /// `messages=N duration=Ts mps=... mean_latency=...ms p99_latency=...ms bandwidth=...MB/s`
    func summary() -> String {
        state.withLock { s in
            let count = s.latencies.count
            guard count > 0, let first = s.first, let last = s.last else { return "No test messages received." }
            let seconds = max((last - first).seconds, 1e-9)
            let sorted = s.latencies.sorted()
            let p99 = Double(sorted[min(count - 1, Int((Double(count) * 0.99).rounded(.up)) - 1)])
            let mean = s.latencySum / Double(count)
            let mps = count > 1 ? Double(count - 1) / seconds : Double(count)
            let bandwidth = count > 1 ? Double(s.bytes) / seconds / 1e6 : 0
            return "Received \(count) messages in \(format(seconds, 3))s: mps=\(Int(mps.rounded())) "
                + "mean_latency=\(format(mean * 1000, 3))ms p99_latency=\(format(p99 * 1000, 3))ms "
                + "bandwidth=\(format(bandwidth, 3))MB/s"
        }
    }
}

private func format(_ value: Double, _ decimals: Int) -> String {
    String(format: "%.\(decimals)f", value)
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
