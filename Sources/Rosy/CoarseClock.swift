#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

extension NIODeadline {
    /// The monotonic time to within a few milliseconds, about ten times cheaper to read than
    /// ``NIODeadline/now()``: for deadlines that are seconds away, such as a topic message's
    /// time-to-live, taken once per message.
    static func coarseNow() -> NIODeadline {
        #if os(Linux)
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &now)
        return .uptimeNanoseconds(UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec))
        #else
        return .now()
        #endif
    }
}
