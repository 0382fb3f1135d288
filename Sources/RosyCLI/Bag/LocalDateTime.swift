import Foundation

/// A wall-clock time in the local time zone, to the microsecond: what Python's
/// `datetime.now()` gives, and what rosy's `.bag` files store.
struct LocalDateTime: Equatable, Sendable {
    var year: Int, month: Int, day: Int
    var hour: Int, minute: Int, second: Int
    var microsecond: Int

    /// The local time of an instant given in nanoseconds since the Unix epoch.
    init(nanosecondsSinceEpoch ns: Int64) {
        var seconds = time_t(ns / 1_000_000_000)
        var micros = Int((ns % 1_000_000_000) / 1000)
        if micros < 0 { micros += 1_000_000; seconds -= 1 }
        var parts = tm()
        localtime_r(&seconds, &parts)
        self.init(year: Int(parts.tm_year) + 1900, month: Int(parts.tm_mon) + 1, day: Int(parts.tm_mday),
                  hour: Int(parts.tm_hour), minute: Int(parts.tm_min), second: Int(parts.tm_sec),
                  microsecond: micros)
    }

    init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, microsecond: Int) {
        (self.year, self.month, self.day) = (year, month, day)
        (self.hour, self.minute, self.second, self.microsecond) = (hour, minute, second, microsecond)
    }

    static func now() -> LocalDateTime {
        LocalDateTime(nanosecondsSinceEpoch: nanosecondsNow())
    }

    /// Whether every field is in its range (a year from 1 to 9999, as Python's datetime).
    var isValid: Bool {
        (1...9999).contains(year) && (1...12).contains(month) && (1...31).contains(day)
            && (0..<24).contains(hour) && (0..<60).contains(minute) && (0..<60).contains(second)
            && (0..<1_000_000).contains(microsecond)
    }

    /// The instant, in nanoseconds since the Unix epoch (local time zone rules); clamped to
    /// what 64 bits hold (years 1678 to 2262).
    var nanosecondsSinceEpoch: Int64 {
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        parts.tm_isdst = -1
        let seconds = Int64(mktime(&parts))
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return whole.addingReportingOverflow(Int64(microsecond) * 1000).overflow ? .max : whole + Int64(microsecond) * 1000
    }

    /// As Python's `str(datetime)`: `2024-05-01 12:30:05.123456` (no fraction when 0).
    var pythonDescription: String {
        var text = "\(pad(year, 4))-\(pad(month))-\(pad(day)) \(pad(hour)):\(pad(minute)):\(pad(second))"
        if microsecond != 0 { text += "." + pad(microsecond, 6) }
        return text
    }

    /// `YYYY-MM-DD-HH-MM-SS`, as in rosy's recording file names.
    var fileNameStamp: String {
        "\(pad(year, 4))-\(pad(month))-\(pad(day))-\(pad(hour))-\(pad(minute))-\(pad(second))"
    }
}

/// The current time in nanoseconds since the Unix epoch.
func nanosecondsNow() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}

/// Python's `str(timedelta)`: `0:00:05.250000`, `1 day, 2:03:04`.
func pythonTimedelta(nanoseconds: Int64) -> String {
    var micros = nanoseconds / 1000
    let negative = micros < 0
    if negative { micros = -micros }  // rosy's durations are never negative; keep it simple
    let days = micros / 86_400_000_000
    micros %= 86_400_000_000
    let seconds = micros / 1_000_000
    let fraction = micros % 1_000_000
    var text = "\(seconds / 3600):\(pad(Int(seconds / 60 % 60))):\(pad(Int(seconds % 60)))"
    if fraction != 0 { text += "." + pad(Int(fraction), 6) }
    if days != 0 { text = "\(days) day\(days == 1 ? "" : "s"), " + text }
    return (negative ? "-" : "") + text
}

private func pad(_ n: Int, _ width: Int = 2) -> String {
    let digits = String(n)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
