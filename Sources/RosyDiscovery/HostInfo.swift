import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Facts about this machine that a node advertises.
public enum HostInfo {
    /// This machine's host name, as Python's `socket.gethostname()` gives it.
    ///
    /// ```swift
    /// let id = NodeID(name: "planner", hostname: HostInfo.hostname)
    /// ```
    public static var hostname: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let bytes = buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The name mDNS peers resolve this machine by: `<hostname>.local`.
    public static var mdnsHostname: String {
        let name = hostname
        return name.hasSuffix(".local") ? name : name + ".local"
    }
}
