#if canImport(Glibc)
import Glibc
#endif

/// sd_notify by hand: datagrams to `$NOTIFY_SOCKET` (`READY=1`, `STATUS=...`, `WATCHDOG=1`).
///
/// ```swift
/// if let systemd = SystemdNotifier(environment: ProcessInfo.processInfo.environment) {
///     systemd.send("READY=1\nSTATUS=all 4 nodes running")
/// }
/// ```
final class SystemdNotifier {
    private let fd: Int32
    private var address = sockaddr_un()
    private let addressLength: socklen_t
    /// Seconds between `WATCHDOG=1` pings (half of `WATCHDOG_USEC`), when systemd asks for them.
    let watchdogInterval: Double?

    init?(environment: [String: String]) {
        guard let path = environment["NOTIFY_SOCKET"], !path.isEmpty,
              path.hasPrefix("/") || path.hasPrefix("@") else { return nil }
        var bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return nil }
        if bytes[0] == UInt8(ascii: "@") { bytes[0] = 0 }  // abstract socket
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
        }
        addressLength = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes[0] == 0 ? 0 : 1))
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        if let usec = environment["WATCHDOG_USEC"].flatMap(Double.init), usec > 0,
           environment["WATCHDOG_PID"].map({ $0 == String(getpid()) }) ?? true {
            watchdogInterval = usec / 2e6
        } else {
            watchdogInterval = nil
        }
    }

    deinit { close(fd) }

    func send(_ message: String) {
        var copy = address
        let length = addressLength
        _ = message.withCString { text in
            withUnsafePointer(to: &copy) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, text, strlen(text), Int32(MSG_NOSIGNAL), $0, length)
                }
            }
        }
    }

    /// Variables a node must not inherit (they belong to the supervisor's own service).
    static let privateVariables: Set<String> = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID",
                                                "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"]
}
