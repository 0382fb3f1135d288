#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Talks to a running launch's control socket.
///
/// ```swift
/// let client = try ControlClient(socket: ControlClient.findSocket(launch: nil, socket: nil))
/// let status = try client.status()
/// ```
public struct ControlClient {
    public let path: String

    public init(socket path: String) { self.path = path }

    /// Sends one request line and returns the whole reply.
    public func send(_ request: String) throws -> String {
        var address = try UnixAddress(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw PosixError("socket") }
        defer { close(fd) }
        guard address.withSockaddr({ connect(fd, $0, $1) }) == 0 else {
            throw ControlError("no launch answers on \(path): \(String(cString: strerror(errno)))")
        }
        guard Posix.writeAll(fd, request + "\n") else { throw PosixError("write") }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            reply += buffer[0..<n]
        }
        return String(decoding: reply, as: UTF8.self)
    }

    /// The launch's state.
    public func status() throws -> LaunchStatus {
        let reply = try send("status")
        do {
            return try JSONDecoder().decode(LaunchStatus.self, from: Data(reply.utf8))
        } catch {
            throw ControlError("unexpected status reply: \(reply.prefix(200))")
        }
    }

    /// Sends a command (`start NODE`, `shutdown`...) and throws the launch's error reply.
    @discardableResult
    public func command(_ request: String) throws -> String {
        let reply = try send(request).trimmingCharacters(in: .whitespacesAndNewlines)
        if reply.hasPrefix("error ") { throw ControlError(String(reply.dropFirst(6))) }
        return reply.hasPrefix("ok ") ? String(reply.dropFirst(3)) : reply
    }

    // MARK: - Finding the socket

    /// The folder of control sockets: `$XDG_RUNTIME_DIR/rosy-launch`, else `/tmp/rosy-launch-UID`.
    public static func runtimeDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let runtime = environment["XDG_RUNTIME_DIR"], !runtime.isEmpty { return runtime + "/rosy-launch" }
        return "/tmp/rosy-launch-\(getuid())"
    }

    /// The socket of the launch of a file (named after the file: `robot.yaml` -> `robot.sock`).
    public static func socketPath(forLaunchFile file: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        runtimeDirectory(environment: environment) + "/" + launchName(file) + ".sock"
    }

    /// `robot` for `/etc/rosy/robot.yaml`.
    public static func launchName(_ file: String) -> String {
        let base = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        return base.isEmpty ? "launch" : base
    }

    /// The socket to talk to: `--socket`, else the launch named by `--launch`, else the only
    /// launch running.
    public static func findSocket(launch: String?, socket: String?) throws -> String {
        if let socket { return socket }
        let folder = runtimeDirectory()
        if let launch { return folder + "/" + launchName(launch) + ".sock" }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasSuffix(".sock") && isListening(folder + "/" + $0) }.sorted()
        guard !names.isEmpty else { throw ControlError("no launch is running (no socket in \(folder))") }
        guard names.count == 1 else {
            let list = names.map { String($0.dropLast(5)) }.joined(separator: ", ")
            throw ControlError("several launches are running (\(list)): pick one with --launch NAME")
        }
        return folder + "/" + names[0]
    }

    static func isListening(_ path: String) -> Bool {
        guard var address = try? UnixAddress(path) else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return address.withSockaddr { connect(fd, $0, $1) } == 0
    }
}
