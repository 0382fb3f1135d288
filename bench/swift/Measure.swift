#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// No Foundation here on purpose: the benchmark reports the resident size of a node, and
// Foundation would add megabytes no rosy node needs.

/// Small measuring tools shared by the responder and the driver.
enum Measure {
    /// Wall-clock time in seconds since 1970, as Python's `time.time()`: the latency case
    /// stamps messages with it, so a Swift and a Python node could time each other.
    static func wallClockSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// Monotonic time in seconds, for durations.
    static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// This process's resident set size in kB (`VmRSS` of /proc/self/status); 0 if unknown.
    static func residentKilobytes() -> Int {
        guard let file = fopen("/proc/self/status", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix("VmRSS:") else { continue }
            let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
            return fields.count >= 2 ? Int(fields[1]) ?? 0 : 0
        }
        return 0
    }

    /// CPU time (user + system) this process used so far, in seconds, the user part alone,
    /// its context switches (voluntary + involuntary) and its minor page faults.
    static func processUsage() -> (cpuSeconds: Double, contextSwitches: Int, userSeconds: Double, minorFaults: Int) {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        return (cpu, usage.ru_nvcsw + usage.ru_nivcsw, user, usage.ru_minflt)
    }

    /// The value below which `fraction` of the sorted values lie (nearest rank).
    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }
}

/// One field of a result line.
enum Field {
    case text(String)
    case int(Int)
    case number(Double)

    var json: String {
        switch self {
        case .text(let text): return "\"\(text)\""  // only our own plain names go here
        case .int(let int): return String(int)
        case .number(let number):
            guard number.isFinite else { return "0" }
            // One decimal, or three below 1 (context switches per call are fractions).
            let scale = abs(number) < 1 ? 1000.0 : 10.0
            return String((number * scale).rounded() / scale)
        }
    }
}

/// Prints one result as a JSON line, the format bench/runner.py reads from every side.
func emit(_ fields: KeyValuePairs<String, Field>) {
    let body = fields.map { "\"\($0.key)\": \($0.value.json)" }.joined(separator: ", ")
    print("{\"impl\": \"swift\", \(body)}")
    fflush(nil)  // every stream: `stdout` is not concurrency-safe in Swift 6
}
