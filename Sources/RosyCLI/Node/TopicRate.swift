import Dispatch
import Foundation
import Rosy
import RosyWire
import Synchronization

/// The last messages of a topic, as `rosy topic hz` and `rosy topic bw` measure them: when
/// each arrived (monotonic nanoseconds) and its size on the wire, in a ring of fixed
/// capacity. Recording neither allocates (once the ring is full) nor formats anything.
///
/// ```swift
/// var window = TopicRate(capacity: 101)                 // 100 periods, for hz --window 100
/// window.record(at: 0, bytes: 12)
/// window.record(at: 10_000_000, bytes: 12)              // 10 ms later
/// window.periods()?.rate                                 // 100.0 (Hz)
/// window.bandwidth(now: 20_000_000)?.bytesPerSecond      // 24 bytes in 20 ms: 1200.0
/// ```
struct TopicRate: Sendable {
    /// The periods between consecutive arrivals of the window, as `ros2 topic hz` sums them up.
    struct Periods: Equatable, Sendable {
        /// Messages per second: 1 / the mean period.
        var rate: Double
        /// The shortest, longest and mean period, and their population standard deviation, in seconds.
        var min: Double
        var max: Double
        var mean: Double
        var standardDeviation: Double
        /// How many periods (one fewer than the arrivals of the window).
        var count: Int
    }

    /// Bytes per second and message sizes over the window, as `ros2 topic bw` sums them up.
    struct Bandwidth: Equatable, Sendable {
        /// The bytes of the window's messages over the time from the oldest arrival to now.
        var bytesPerSecond: Double
        var messages: Int
        /// Message sizes in bytes.
        var mean: Double
        var min: Int
        var max: Int
    }

    /// The most arrivals kept; an older one leaves as a new one comes.
    let capacity: Int
    private var times: [UInt64] = []
    private var sizes: [Int] = []
    /// Once the ring is full: the oldest arrival's index, where the next one goes.
    private var oldest = 0
    /// Every message recorded since the start (not only the window's).
    private(set) var received = 0

    init(capacity: Int) {
        precondition(capacity >= 1, "a window holds at least one message")
        self.capacity = capacity
        times.reserveCapacity(Swift.min(capacity, 1 << 16))
        sizes.reserveCapacity(Swift.min(capacity, 1 << 16))
    }

    /// The arrivals now in the window.
    var count: Int { times.count }

    /// A message of `bytes` bytes arrived at `nanoseconds` (a monotonic clock, never earlier than the last).
    mutating func record(at nanoseconds: UInt64, bytes: Int) {
        received += 1
        if times.count < capacity {
            times.append(nanoseconds)
            sizes.append(bytes)
        } else {
            times[oldest] = nanoseconds
            sizes[oldest] = bytes
            oldest = oldest + 1 == capacity ? 0 : oldest + 1
        }
    }

    /// The storage index of the `position`th arrival of the window, oldest first.
    private func index(_ position: Int) -> Int {
        let index = oldest + position
        return index < times.count ? index : index - times.count
    }

    /// Rate, min, max and standard deviation of the periods; `nil` with fewer than two arrivals.
    func periods() -> Periods? {
        let n = times.count - 1
        guard n >= 1 else { return nil }
        let first = times[index(0)], last = times[index(n)]
        let mean = Double(last &- first) / Double(n) / 1e9
        var shortest = Double.infinity, longest = 0.0, squares = 0.0
        var previous = first
        for position in 1...n {
            let time = times[index(position)]
            let period = Double(time &- previous) / 1e9
            previous = time
            shortest = Swift.min(shortest, period)
            longest = Swift.max(longest, period)
            squares += (period - mean) * (period - mean)
        }
        return Periods(rate: mean > 0 ? 1 / mean : 0, min: shortest, max: longest, mean: mean,
                       standardDeviation: (squares / Double(n)).squareRoot(), count: n)
    }

    /// Bytes per second (the window's bytes over the time from its oldest arrival to `now`)
    /// and the sizes' mean, min and max; `nil` with fewer than two arrivals or no time passed.
    func bandwidth(now: UInt64) -> Bandwidth? {
        guard times.count >= 2 else { return nil }
        let first = times[index(0)]
        guard now > first else { return nil }
        var total = 0, smallest = Int.max, largest = 0
        for size in sizes {
            total += size
            smallest = Swift.min(smallest, size)
            largest = Swift.max(largest, size)
        }
        return Bandwidth(bytesPerSecond: Double(total) / (Double(now - first) / 1e9), messages: sizes.count,
                         mean: Double(total) / Double(sizes.count), min: smallest, max: largest)
    }
}

// MARK: - What hz and bw print

extension TopicRate.Periods {
    /// `ros2 topic hz`'s two lines: `average rate: 100.012` and
    /// `\tmin: 0.009s max: 0.011s std dev: 0.00041s window: 101`.
    var text: String {
        "average rate: \(fixed(rate, 3))\n\tmin: \(fixed(min, 3))s max: \(fixed(max, 3))s "
            + "std dev: \(fixed(standardDeviation, 5))s window: \(count)"
    }

    /// One JSON object: `{"time", "topic", "rate_hz", "min_s", "max_s", "std_s", "window", "new_messages"}`.
    func json(topic: String, time: Double, newMessages: Int) -> String {
        Value.dict([
            "time": .double(time), "topic": .string(topic), "rate_hz": .double(rate),
            "min_s": .double(min), "max_s": .double(max), "std_s": .double(standardDeviation),
            "window": .int(Int64(count)), "new_messages": .int(Int64(newMessages)),
        ]).jsonText
    }
}

extension TopicRate.Bandwidth {
    /// `ros2 topic bw`'s two lines: `1.23 KB/s from 100 messages` and
    /// `\tMessage size mean: 12 B min: 12 B max: 12 B`, every figure in the unit the
    /// bandwidth needs (B below 1000 B/s, KB below 1000 KB/s, else MB; 1 KB = 1000 B).
    var text: String {
        let unit: (Double) -> String
        if bytesPerSecond < 1000 {
            unit = { "\(fixed($0, 0)) B" }
        } else if bytesPerSecond < 1_000_000 {
            unit = { "\(fixed($0 / 1000, 2)) KB" }
        } else {
            unit = { "\(fixed($0 / 1_000_000, 2)) MB" }
        }
        return "\(unit(bytesPerSecond))/s from \(messages) messages\n"
            + "\tMessage size mean: \(unit(mean)) min: \(unit(Double(min))) max: \(unit(Double(max)))"
    }

    /// One JSON object: `{"time", "topic", "bytes_per_s", "messages", "mean_bytes", "min_bytes", "max_bytes"}`.
    func json(topic: String, time: Double) -> String {
        Value.dict([
            "time": .double(time), "topic": .string(topic), "bytes_per_s": .double(bytesPerSecond),
            "messages": .int(Int64(messages)), "mean_bytes": .double(mean), "min_bytes": .int(Int64(min)), "max_bytes": .int(Int64(max)),
        ]).jsonText
    }
}

// MARK: - The commands

/// `rosy topic hz` and `rosy topic bw`: listen to one topic and, every second until Ctrl+C
/// or SIGTERM, print its rate or its bandwidth over the last messages.
///
/// ```swift
/// try await TopicRateMonitor(common: common, name: "rosy topic hz", topic: "pose",
///                            measure: .rate, window: 10_000, json: false).run()
/// ```
///
/// - `.rate` (hz): `window` periods between messages; nothing until two messages came, then
///   every second the ros2 lines, or `no new messages` when none came since the last line
///   (`--json`: `{"time", "topic", "new_messages": 0}`), also once the sender is gone.
/// - `.bandwidth` (bw): `window` messages; `Subscribed to [TOPIC]` first (not with `--json`),
///   nothing until two messages came, then every second the ros2 lines. As in ros2, the
///   bytes/s fall once messages stop (the time to now grows).
struct TopicRateMonitor {
    enum Measure: Sendable { case rate, bandwidth }

    var common: CommonOptions
    var name: String
    var topic: String
    var measure: Measure
    var window: Int
    var json: Bool

    func run() async throws {
        if let problem = TopicName.problem(with: topic) { throw CLIError(problem) }
        let meter = TopicRateMeter(capacity: measure == .rate ? window + 1 : window)
        let node = try await NodeSession.start(name: name, common: common)
        do {
            try await node.listen(topic) { message in meter.record(bytes: message.wireSize ?? 0) }
        } catch {
            await node.stop()
            throw CLIError("cannot listen to \(topic.pythonQuoted): \(error)")
        }
        if measure == .bandwidth && !json { say("Subscribed to [\(topic)]") }
        do {
            try await Interruption.run { [self] in
                let clock = ContinuousClock()
                var next = clock.now
                var printed = 0  // messages received when the last line was printed
                while true {
                    next += .seconds(1)
                    try await Task.sleep(until: next, clock: clock)
                    if let line = report(meter, printed: &printed) { say(line) }
                }
            }
        } catch {
            await node.stop()
            throw error
        }
        await node.stop()
    }

    /// This second's line, if any; `printed` is the received count at the last line.
    private func report(_ meter: TopicRateMeter, printed: inout Int) -> String? {
        let now = DispatchTime.now().uptimeNanoseconds
        let (received, periods, bandwidth) = meter.read { rate in
            (rate.received, measure == .rate ? rate.periods() : nil, measure == .bandwidth ? rate.bandwidth(now: now) : nil)
        }
        let time = Double(nanosecondsNow()) / 1e9
        switch measure {
        case .rate:
            guard let periods else { return nil }  // fewer than two messages so far
            let new = received - printed
            printed = received
            if new == 0 {
                return json ? Value.dict(["time": .double(time), "topic": .string(topic), "new_messages": 0]).jsonText
                    : "no new messages"
            }
            return json ? periods.json(topic: topic, time: time, newMessages: new) : periods.text
        case .bandwidth:
            guard let bandwidth else { return nil }
            return json ? bandwidth.json(topic: topic, time: time) : bandwidth.text
        }
    }
}

/// A ``TopicRate`` shared by the listener, which records each message under a lock, and
/// the once-a-second printer.
final class TopicRateMeter: Sendable {
    private let state: Mutex<TopicRate>

    init(capacity: Int) {
        state = Mutex(TopicRate(capacity: capacity))
    }

    /// A message of `bytes` bytes arrived now.
    func record(bytes: Int) {
        // The time is taken under the lock: messages of two senders stay in order.
        state.withLock { $0.record(at: DispatchTime.now().uptimeNanoseconds, bytes: bytes) }
    }

    func read<Result: Sendable>(_ body: (borrowing TopicRate) -> Result) -> Result {
        state.withLock { body($0) }
    }
}
