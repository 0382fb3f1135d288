#if canImport(Glibc)
import Glibc
#endif

/// Formats the wall-clock time for log lines, caching the part that changes once a second.
struct Timestamps {
    private var cachedSecond: Int = -1
    private var cachedUTC: [UInt8] = []
    private var cachedLocal: [UInt8] = []
    /// `2026-11-25T13:30:00.123Z` (files).
    private(set) var utc: [UInt8] = []
    /// `13:30:00.123` (terminal, local time).
    private(set) var local: [UInt8] = []

    /// Reads the clock; `utc` and `local` then hold the current time.
    mutating func update() {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let second = spec.tv_sec
        if second != cachedSecond {
            cachedSecond = second
            var t = second
            var parts = tm()
            gmtime_r(&t, &parts)
            cachedUTC = Array(Self.two(Int(parts.tm_year) + 1900, width: 4).utf8) + Array("-\(Self.two(Int(parts.tm_mon) + 1))-\(Self.two(Int(parts.tm_mday)))T\(Self.two(Int(parts.tm_hour))):\(Self.two(Int(parts.tm_min))):\(Self.two(Int(parts.tm_sec)))".utf8)
            localtime_r(&t, &parts)
            cachedLocal = Array("\(Self.two(Int(parts.tm_hour))):\(Self.two(Int(parts.tm_min))):\(Self.two(Int(parts.tm_sec)))".utf8)
        }
        let millis = Array(".\(Self.two(Int(spec.tv_nsec) / 1_000_000, width: 3))".utf8)
        utc = cachedUTC + millis + [0x5A]
        local = cachedLocal + millis
    }

    static func two(_ value: Int, width: Int = 2) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
