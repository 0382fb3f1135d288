import NIOConcurrencyHelpers

/// What the responder received since the last `result` call. Listener callbacks may run on
/// several threads, so every access goes through a lock.
final class Tally: Sendable {
    private struct Counts {
        var delivered = 0
        var first = 0.0
        var last = 0.0
        var latenciesMicroseconds: [Double] = []
        var usageAtReset = Measure.processUsage()
    }

    /// A snapshot, as the `result` service returns it.
    struct Report {
        var delivered: Int
        var seconds: Double
        var p50Microseconds: Double
        var p99Microseconds: Double
        /// CPU seconds and context switches of this process since the last report.
        var cpuSeconds: Double
        var contextSwitches: Int
        /// The user-space part of `cpuSeconds`, and the minor page faults.
        var userSeconds: Double
        var minorFaults: Int
    }

    private let counts = NIOLockedValueBox(Counts())

    /// Counts one delivered message, with its latency when the message carried a send time.
    func count(latencyMicroseconds: Double? = nil) {
        let now = Measure.monotonicSeconds()
        counts.withLockedValue { counts in
            if counts.delivered == 0 { counts.first = now }
            counts.last = now
            counts.delivered += 1
            if let latencyMicroseconds { counts.latenciesMicroseconds.append(latencyMicroseconds) }
        }
    }

    /// Returns what was counted and starts afresh.
    func takeReport() -> Report {
        let taken = counts.withLockedValue { counts in
            defer { counts = Counts() }
            return counts
        }
        let usage = Measure.processUsage()
        let sorted = taken.latenciesMicroseconds.sorted()
        return Report(
            delivered: taken.delivered,
            seconds: taken.last - taken.first,
            p50Microseconds: Measure.percentile(sorted, 0.50),
            p99Microseconds: Measure.percentile(sorted, 0.99),
            cpuSeconds: usage.cpuSeconds - taken.usageAtReset.cpuSeconds,
            contextSwitches: usage.contextSwitches - taken.usageAtReset.contextSwitches,
            userSeconds: usage.userSeconds - taken.usageAtReset.userSeconds,
            minorFaults: usage.minorFaults - taken.usageAtReset.minorFaults
        )
    }
}
