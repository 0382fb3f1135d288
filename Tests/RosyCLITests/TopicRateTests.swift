import Foundation
import NIOCore
import Rosy
import RosyTestSupport
import RosyWire
import XCTest

@testable import RosyCLI

/// `rosy topic hz` and `rosy topic bw`: the statistics alone, then real `rosy` processes
/// measuring a sender in this process (a Swift node on an exact 100 Hz schedule), each test
/// in a domain of its own.
final class TopicRateTests: XCTestCase {
    private var domain = ""
    private var background: [BackgroundProcess] = []
    private var senders: [(node: Node, task: Task<Void, any Error>)] = []

    override func setUp() {
        domain = "rate-test-\(UUID().uuidString.prefix(8))"
    }

    override func tearDown() async throws {
        for sender in senders {
            sender.task.cancel()
            _ = await sender.task.result
            await sender.node.stop()
        }
        for process in background { process.kill9() }
    }

    private let ms: UInt64 = 1_000_000

    // MARK: The statistics

    func testPeriodsOfRegularArrivals() throws {
        var rate = TopicRate(capacity: 101)
        for i in 0..<5 { rate.record(at: UInt64(i) * 10 * ms, bytes: 12) }
        let periods = try XCTUnwrap(rate.periods())
        XCTAssertEqual(periods.rate, 100, accuracy: 1e-9)
        XCTAssertEqual(periods.min, 0.01, accuracy: 1e-12)
        XCTAssertEqual(periods.max, 0.01, accuracy: 1e-12)
        XCTAssertEqual(periods.standardDeviation, 0, accuracy: 1e-12)
        XCTAssertEqual(periods.count, 4)
        XCTAssertEqual(rate.received, 5)
    }

    func testPeriodsOfIrregularArrivals() throws {
        // Periods of 10, 20 and 30 ms: mean 20 ms (50 Hz), population std dev sqrt(200/3) ms.
        var rate = TopicRate(capacity: 10)
        for t in [0, 10, 30, 60] as [UInt64] { rate.record(at: 1_000 * ms + t * ms, bytes: 1) }
        let periods = try XCTUnwrap(rate.periods())
        XCTAssertEqual(periods.rate, 50, accuracy: 1e-9)
        XCTAssertEqual(periods.mean, 0.02, accuracy: 1e-12)
        XCTAssertEqual(periods.min, 0.01, accuracy: 1e-12)
        XCTAssertEqual(periods.max, 0.03, accuracy: 1e-12)
        XCTAssertEqual(periods.standardDeviation, (200.0 / 3).squareRoot() / 1000, accuracy: 1e-12)
        XCTAssertEqual(periods.count, 3)
    }

    func testTheWindowKeepsTheLastArrivals() throws {
        // Capacity 3 of 0, 10, 20, 40, 80 ms: 20, 40, 80 remain, periods 20 and 40 ms.
        var rate = TopicRate(capacity: 3)
        for (t, size) in [(0, 1), (10, 2), (20, 30), (40, 40), (80, 50)] as [(UInt64, Int)] {
            rate.record(at: t * ms, bytes: size)
        }
        XCTAssertEqual(rate.count, 3)
        XCTAssertEqual(rate.received, 5)
        let periods = try XCTUnwrap(rate.periods())
        XCTAssertEqual(periods.rate, 1 / 0.03, accuracy: 1e-9)
        XCTAssertEqual(periods.min, 0.02, accuracy: 1e-12)
        XCTAssertEqual(periods.max, 0.04, accuracy: 1e-12)
        XCTAssertEqual(periods.standardDeviation, 0.01, accuracy: 1e-12)
        // bw over the same window: 120 bytes from 20 ms to 120 ms.
        let bandwidth = try XCTUnwrap(rate.bandwidth(now: 120 * ms))
        XCTAssertEqual(bandwidth.bytesPerSecond, 1200, accuracy: 1e-9)
        XCTAssertEqual(bandwidth.messages, 3)
        XCTAssertEqual(bandwidth.mean, 40, accuracy: 1e-12)
        XCTAssertEqual(bandwidth.min, 30)
        XCTAssertEqual(bandwidth.max, 50)
    }

    func testBandwidthOfKnownArrivals() throws {
        // 10, 20 and 30 bytes at 0, 0.5 and 1 s; at 2 s that is 60 bytes in 2 s.
        var rate = TopicRate(capacity: 100)
        for (t, size) in [(0, 10), (500, 20), (1000, 30)] as [(UInt64, Int)] { rate.record(at: 5_000 * ms + t * ms, bytes: size) }
        let bandwidth = try XCTUnwrap(rate.bandwidth(now: 7_000 * ms))
        XCTAssertEqual(bandwidth, TopicRate.Bandwidth(bytesPerSecond: 30, messages: 3, mean: 20, min: 10, max: 30))
        // The bytes/s fall as time goes on without messages, as in ros2.
        XCTAssertEqual(try XCTUnwrap(rate.bandwidth(now: 11_000 * ms)).bytesPerSecond, 10, accuracy: 1e-9)
    }

    func testFewerThanTwoMessagesGiveNothing() {
        var rate = TopicRate(capacity: 10)
        XCTAssertNil(rate.periods())
        XCTAssertNil(rate.bandwidth(now: 1_000 * ms))
        rate.record(at: 0, bytes: 5)
        XCTAssertNil(rate.periods())
        XCTAssertNil(rate.bandwidth(now: 1_000 * ms))
    }

    func testTextAndJSONLinesAsRos2() throws {
        let periods = TopicRate.Periods(rate: 100.0123, min: 0.0094, max: 0.0107, mean: 0.0099988,
                                        standardDeviation: 0.000412, count: 101)
        XCTAssertEqual(periods.text, "average rate: 100.012\n\tmin: 0.009s max: 0.011s std dev: 0.00041s window: 101")
        let hz = try jsonObject(periods.json(topic: "pose", time: 1_700_000_000.5, newMessages: 99))
        XCTAssertEqual(Set(hz.keys), ["time", "topic", "rate_hz", "min_s", "max_s", "std_s", "window", "new_messages"])
        XCTAssertEqual(hz["topic"] as? String, "pose")
        XCTAssertEqual(hz["rate_hz"] as? Double, 100.0123)
        XCTAssertEqual(hz["window"] as? Int, 101)
        XCTAssertEqual(hz["new_messages"] as? Int, 99)

        // ros2's units, chosen by the bandwidth: B below 1000 B/s, then KB, then MB.
        XCTAssertEqual(TopicRate.Bandwidth(bytesPerSecond: 120.4, messages: 10, mean: 12, min: 12, max: 12).text,
                       "120 B/s from 10 messages\n\tMessage size mean: 12 B min: 12 B max: 12 B")
        XCTAssertEqual(TopicRate.Bandwidth(bytesPerSecond: 1234, messages: 100, mean: 12.34, min: 12, max: 13).text,
                       "1.23 KB/s from 100 messages\n\tMessage size mean: 0.01 KB min: 0.01 KB max: 0.01 KB")
        XCTAssertEqual(TopicRate.Bandwidth(bytesPerSecond: 5_250_000, messages: 100, mean: 52_500, min: 50_000, max: 55_000).text,
                       "5.25 MB/s from 100 messages\n\tMessage size mean: 0.05 MB min: 0.05 MB max: 0.06 MB")
        let bw = try jsonObject(TopicRate.Bandwidth(bytesPerSecond: 1234, messages: 100, mean: 12.5, min: 12, max: 13)
            .json(topic: "pose", time: 1_700_000_000.5))
        XCTAssertEqual(Set(bw.keys), ["time", "topic", "bytes_per_s", "messages", "mean_bytes", "min_bytes", "max_bytes"])
        XCTAssertEqual(bw["mean_bytes"] as? Double, 12.5)
        XCTAssertEqual(bw["max_bytes"] as? Int, 13)
    }

    // MARK: Against real processes

    func testHzMeasuresA100HzSender() async throws {
        let hz = try startRosy(["topic", "hz", "rate", "--json"])
        try await startSender(topic: "rate", listeners: 1)
        // Five lines of figures; the first two are the warm-up (connection, first bursts).
        let lines = try await jsonLines(of: hz, count: 5) { $0["rate_hz"] != nil }
        for line in lines.dropFirst(2) {
            let rate = try XCTUnwrap(line["rate_hz"] as? Double)
            print("rosy topic hz measured \(rate) Hz over \(line["window"] ?? "?") periods")
            XCTAssertEqual(rate, 100, accuracy: 5, "\(line)")
            let min = try XCTUnwrap(line["min_s"] as? Double), max = try XCTUnwrap(line["max_s"] as? Double)
            XCTAssertLessThanOrEqual(min, 0.01, "\(line)")
            XCTAssertGreaterThanOrEqual(max, 0.01, "\(line)")
            XCTAssertEqual(line["topic"] as? String, "rate")
            XCTAssertGreaterThan(try XCTUnwrap(line["new_messages"] as? Int), 0)
        }
        let windows = try lines.map { try XCTUnwrap($0["window"] as? Int) }
        XCTAssertEqual(windows, windows.sorted(), "the default window (10000) grows: \(windows)")
        XCTAssertEqual(hz.interrupt(), 0, hz.stderr)
    }

    func testBwReportsTheWireSizeOfTheMessageSent() async throws {
        let args: [Value] = ["hello rate", 42, .bytes([0, 1, 2, 3])]
        let kwargs: Kwargs = ["pi": .double(3.14)]
        // The frame as the sender's codec (pickle, the default) writes it.
        var frame = ByteBuffer()
        try FrameEncoder.writeTopicMessage(topic: "sized", args: args, kwargs: kwargs, codec: PickleCodec() as any MessageCodec, into: &frame)
        let size = frame.readableBytes

        let json = try startRosy(["topic", "bw", "sized", "--json", "--window", "300"])
        let text = try startRosy(["topic", "bw", "sized", "--name", "rosy topic bw (text)"])
        try await startSender(topic: "sized", args: args, kwargs: kwargs, listeners: 2)
        let lines = try await jsonLines(of: json, count: 4) { $0["bytes_per_s"] != nil }
        let last = try XCTUnwrap(lines.last)
        print("rosy topic bw measured \(last["bytes_per_s"] ?? "?") B/s of \(last["mean_bytes"] ?? "?")-byte messages (frame: \(size) bytes)")
        XCTAssertEqual(last["mean_bytes"] as? Double, Double(size), "\(last)")
        XCTAssertEqual(last["min_bytes"] as? Int, size)
        XCTAssertEqual(last["max_bytes"] as? Int, size)
        XCTAssertLessThanOrEqual(try XCTUnwrap(last["messages"] as? Int), 300)
        // 100 messages a second of `size` bytes, within 10%.
        XCTAssertEqual(try XCTUnwrap(last["bytes_per_s"] as? Double), Double(100 * size), accuracy: Double(10 * size), "\(last)")

        // The text form: ros2's banner and two lines a second.
        try await waitFor(text, "\tMessage size mean: ", count: 2)
        XCTAssertEqual(text.interrupt(), 0, text.stderr)
        XCTAssertEqual(json.interrupt(), 0, json.stderr)
        XCTAssertTrue(text.stdout.hasPrefix("Subscribed to [sized]\n"), text.stdout)
        XCTAssertTrue(text.stdout.contains(" KB/s from "), text.stdout)
    }

    func testABadTopicNameIsOneErrorLine() throws {
        for arguments in [["topic", "hz", ""], ["topic", "bw", ""], ["topic", "hz", String(repeating: "x", count: 300)],
                          ["topic", "bw", "t", "--window", "1"], ["topic", "hz", "t", "-w", "0"]] {
            let result = try TestSupport.run(TestSupport.executable("rosy").path, arguments + ["--domain-id", domain], timeout: 60)
            XCTAssertNotEqual(result.status, 0, "\(arguments)")
            let lines = result.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(arguments): \(result.stderr)")
            XCTAssertTrue(lines.first?.hasPrefix("Error: ") ?? false, result.stderr)
            XCTAssertEqual(result.stdout, "", "\(arguments)")
        }
        let empty = try TestSupport.run(TestSupport.executable("rosy").path, ["topic", "hz", ""], timeout: 60)
        XCTAssertEqual(empty.stderr, "Error: the topic name is empty\n")
        for command in ["hz", "bw"] {
            let help = try TestSupport.run(TestSupport.executable("rosy").path, ["topic", command, "--help"], timeout: 60)
            XCTAssertEqual(help.status, 0)
            XCTAssertTrue(help.stdout.contains("USAGE: rosy topic \(command)"), help.stdout)
        }
    }

    func testHzOutlivesItsSenderAndStopsOnCtrlC() async throws {
        let hz = try startRosy(["topic", "hz", "tick"])
        // Nothing before the first messages, as ros2.
        try await Task.sleep(for: .milliseconds(1500))
        XCTAssertEqual(hz.stdout, "")
        // A sender process, then gone without a word (SIGKILL).
        let sender = try startRosy(["topic", "send", "tick", "1", "--interval", "0.02"])
        try await waitFor(hz, "average rate: ")
        sender.kill9()
        try await waitFor(hz, "no new messages", count: 2)
        XCTAssertTrue(hz.process.isRunning, "hz lives on without its sender: \(hz.stderr)")
        XCTAssertEqual(hz.interrupt(), 0, hz.stderr)
        XCTAssertTrue(hz.stdout.contains("\tmin: "), hz.stdout)
        XCTAssertTrue(hz.stdout.hasSuffix("no new messages\n"), hz.stdout)
    }

    // MARK: Helpers

    /// `rosy ... --domain-id DOMAIN` in the background.
    private func startRosy(_ arguments: [String]) throws -> BackgroundProcess {
        let process = try BackgroundProcess.rosy(arguments + ["--domain-id", domain])
        background.append(process)
        return process
    }

    /// A node in this process sending `args` on `topic` every 10 ms on an exact schedule
    /// (late sleeps catch up), once `listeners` nodes listen to the topic.
    private func startSender(topic: String, args: [Value] = [1], kwargs: Kwargs = [:], listeners: Int) async throws {
        let node = try await Node.start(name: "rate-test-sender", domainID: domain)
        let deadline = ContinuousClock.now + .seconds(30)
        while node.meshNodes.filter({ $0.topics.contains(topic) }).count < listeners {
            guard ContinuousClock.now < deadline else {
                await node.stop()
                return XCTFail("no \(listeners) listeners of \(topic) after 30 s")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let task = Task {
            let clock = ContinuousClock()
            var next = clock.now
            while !Task.isCancelled {
                try await node.send(topic, args: args, kwargs: kwargs)
                next += .milliseconds(10)
                try await Task.sleep(until: next, clock: clock)
            }
        }
        senders.append((node, task))
    }

    /// Waits (without blocking a thread) until stdout holds `count` JSON lines that `matching`
    /// accepts, and returns them.
    private func jsonLines(of process: BackgroundProcess, count: Int, timeout: Duration = .seconds(60),
                           matching: ([String: Any]) -> Bool) async throws -> [[String: Any]] {
        let deadline = ContinuousClock.now + timeout
        while true {
            let lines = try process.stdout.split(separator: "\n").map { try jsonObject(String($0)) }.filter(matching)
            if lines.count >= count { return Array(lines.prefix(count)) }
            guard ContinuousClock.now < deadline, process.process.isRunning else {
                XCTFail("no \(count) lines from \(process.process.arguments ?? []):\n\(process.stdout)\nstderr:\n\(process.stderr)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Waits (without blocking a thread) until stdout holds `text` `count` times.
    private func waitFor(_ process: BackgroundProcess, _ text: String, count: Int = 1, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while process.stdout.components(separatedBy: text).count - 1 < count {
            guard ContinuousClock.now < deadline, process.process.isRunning else {
                XCTFail("no \(count)× \"\(text)\" from \(process.process.arguments ?? []):\n\(process.stdout)\nstderr:\n\(process.stderr)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    private func jsonObject(_ line: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
    }
}
