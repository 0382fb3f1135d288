#if canImport(Glibc)
import Glibc
#endif

/// The launch's control socket: a Unix stream socket that takes one request line per
/// connection (`status`, `start NODE`, `stop NODE`, `restart NODE`, `shutdown`) and answers
/// with one reply before closing. Served from the supervisor's poll loop.
final class ControlServer {
    let path: String
    let fd: Int32

    init(path: String) throws {
        self.path = path
        if ControlClient.isListening(path) {
            throw ControlError("another launch already listens on \(path) (use --socket to pick another)")
        }
        unlink(path)
        let folder = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if !folder.isEmpty {
            try LogWriter.makeDirectories(folder)
            if folder.hasSuffix("/rosy-launch-\(getuid())") || folder.hasSuffix("/rosy-launch") {
                chmod(folder, 0o700)  // our own folder: only this user reaches the sockets
            }
        }
        var address = try UnixAddress(path)
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw PosixError("socket") }
        let bound = address.withSockaddr { bind(fd, $0, $1) }
        guard bound == 0, listen(fd, 16) == 0 else {
            let error = PosixError("bind \(path)")
            Glibc.close(fd)
            throw error
        }
        chmod(path, 0o600)
    }

    /// Accepts waiting connections and answers each with `handler(request)`.
    func acceptAll(_ handler: (String) -> String) {
        while true {
            let client = accept(fd, nil, nil)
            guard client >= 0 else { return }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            if let request = Self.readLine(client) {
                _ = Posix.writeAll(client, handler(request))
            }
            Glibc.close(client)
        }
    }

    func close() {
        Glibc.close(fd)
        unlink(path)
    }

    static func readLine(_ fd: Int32, limit: Int = 4096) -> String? {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while bytes.count < limit {
            let n = read(fd, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            guard n == 1 else { break }
            if byte == 0x0A { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }
}

/// A `sockaddr_un` for a path.
struct UnixAddress {
    var storage = sockaddr_un()

    init(_ path: String) throws {
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: storage.sun_path) else {
            throw ControlError("socket path too long (\(bytes.count) bytes, at most 107): \(path)")
        }
        storage.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &storage.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
        }
    }

    mutating func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }
}

public struct ControlError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
