import Foundation
import RosyDiscovery
#if canImport(Glibc)
import Glibc
#endif

/// Facts about this machine and process that a node needs.
enum Host {
    /// `gethostname()`, as Python's `socket.gethostname()`.
    static let name: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }()

    /// The domain id: the argument, else `ROSY_DOMAIN_ID`, else `default`.
    static func domainID(_ argument: String?) -> String {
        if let argument, !argument.isEmpty { return argument }
        if let env = ProcessInfo.processInfo.environment["ROSY_DOMAIN_ID"], !env.isEmpty { return env }
        return "default"
    }

    /// Where node sockets live: `sockets` in the runtime directory
    /// (`$XDG_RUNTIME_DIR/rosy/sockets`, else `/tmp/rosy-<uid>/sockets`).
    static var socketDirectory: URL {
        RuntimeDirectory.url.appendingPathComponent("sockets")
    }
}
