import Foundation
import Synchronization

/// What a speedtest receiver measured: counted under one lock with no allocation and no
/// clock read of its own per message, the mean latency kept as rosy 0.8.3 keeps it
/// (`avg += (dt - avg) / count`).
///
/// ```swift
/// let stats = SpeedStats()
/// stats.record(sentAt: sent, receivedAt: now, bytes: 1000)   // seconds since 1970, as time.time()
/// say(stats.summary(label: "[recv]"))
/// ```
final class SpeedStats: Sendable {
    private struct State {
        var count = 0
        var meanLatency = 0.0
        var latencies = LatencyHistogram()
        var bytes = 0
        /// When the first and the last test message arrived (seconds since 1970).
        var first: Double?
        var last = 0.0
        /// The test messages the sender says it sent (a Swift sender says so; Python's does not).
        var sent: Int?
    }

    private let state = Mutex(State())

    /// One test message sent at `sent` and received at `received` (the receiver's one
    /// clock read per message, also its arrival time).
    func record(sentAt sent: Double, receivedAt received: Double, bytes: Int) {
        let latency = received - sent
        state.withLock { s in
            s.count += 1
            s.meanLatency += (latency - s.meanLatency) / Double(s.count)
            s.latencies.record(seconds: latency)
            s.bytes += bytes
            if s.first == nil { s.first = received }
            s.last = received
        }
    }

    /// The sender's own count of the test messages it sent.
    func senderSent(_ count: Int) {
        state.withLock { $0.sent = count }
    }

    /// The count and mean latency so far, for the once-a-second lines.
    func snapshot() -> (count: Int, meanLatency: Double) {
        state.withLock { s in (s.count, s.meanLatency) }
    }

    /// The final line: `LABEL Summary: messages=N duration=Ts mps=M MB/s=X
    /// mean_latency=Yms p50_latency=Yms p99_latency=Yms lost=K` (`lost=unknown` when the
    /// sender did not say how many it sent). The duration runs from the first test message
    /// received to the last; MB/s counts the payload strings.
    func summary(label: String) -> String {
        state.withLock { s in
            let seconds = s.first.map { s.last - $0 } ?? 0
            let mps = seconds > 0 ? Double(s.count) / seconds : 0
            let megabytes = seconds > 0 ? Double(s.bytes) / seconds / 1e6 : 0
            let lost = s.sent.map { String($0 - s.count) } ?? "unknown"
            return "\(label) Summary: messages=\(s.count) duration=\(fixed(seconds, 3))s mps=\(Int(mps.rounded())) "
                + "MB/s=\(fixed(megabytes, 3)) mean_latency=\(fixed(s.meanLatency * 1000, 3))ms "
                + "p50_latency=\(fixed(s.latencies.percentile(0.50) * 1000, 3))ms "
                + "p99_latency=\(fixed(s.latencies.percentile(0.99) * 1000, 3))ms lost=\(lost)"
        }
    }
}

/// `value` with `decimals` digits after the point (`%.Nf`).
func fixed(_ value: Double, _ decimals: Int) -> String {
    String(format: "%.\(decimals)f", value)
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
