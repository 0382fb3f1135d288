/// Latencies counted into fixed buckets, for percentiles without keeping every sample:
/// recording one costs no allocation, and the buckets take 30 KB however long the run.
///
/// Below 64 ns each nanosecond has a bucket; above, every power of two is split into 64
/// buckets, so a percentile is within 1/64 (1.6 %) of the true sample.
///
/// ```swift
/// var histogram = LatencyHistogram()
/// histogram.record(seconds: 0.000_042)
/// let p99 = histogram.percentile(0.99)  // seconds
/// ```
struct LatencyHistogram: Sendable {
    /// Buckets per power of two, as a bit count.
    private static let subBits = 6
    private static let perOctave = 1 << subBits
    private static let bucketCount = (64 - subBits + 1) * perOctave

    private var buckets = [Int](repeating: 0, count: bucketCount)
    private(set) var count = 0

    /// Counts one latency; a negative one (clocks a little apart) counts as 0.
    mutating func record(seconds: Double) {
        let nanoseconds = seconds > 0 ? UInt64(min(seconds * 1e9, 1.8e19)) : 0
        buckets[Self.index(of: nanoseconds)] += 1
        count += 1
    }

    /// The latency below which `fraction` of the samples lie, in seconds, as the sample at
    /// rank `int(count * fraction)` of the sorted list (bench/'s percentile); 0 when empty.
    func percentile(_ fraction: Double) -> Double {
        guard count > 0 else { return 0 }
        let rank = min(count - 1, Int(Double(count) * fraction))
        var seen = 0
        for (index, n) in buckets.enumerated() where n > 0 {
            seen += n
            if seen > rank { return Self.middle(of: index) / 1e9 }
        }
        return 0
    }

    private static func index(of nanoseconds: UInt64) -> Int {
        if nanoseconds < UInt64(perOctave) { return Int(nanoseconds) }
        let highestBit = 63 - nanoseconds.leadingZeroBitCount
        let shift = highestBit - subBits
        let top = Int(nanoseconds >> UInt64(shift))  // perOctave ..< 2 * perOctave
        return (shift + 1) * perOctave + top - perOctave
    }

    /// The middle of a bucket, in nanoseconds.
    private static func middle(of index: Int) -> Double {
        if index < perOctave { return Double(index) }
        let shift = index / perOctave - 1
        let low = Double(index % perOctave + perOctave) * Double(UInt64(1) << UInt64(shift))
        return low + Double(UInt64(1) << UInt64(shift)) / 2
    }
}
