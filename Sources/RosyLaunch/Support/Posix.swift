#if canImport(Glibc)
import Glibc
#endif
import CRosySys

/// Thin wrappers over the system calls the supervisor uses, throwing `PosixError`.
enum Posix {
    /// A pipe whose both ends close on exec.
    static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard crosy_pipe_cloexec(&fds) == 0 else { throw PosixError("pipe") }
        return (fds[0], fds[1])
    }

    static func setNonBlocking(_ fd: Int32) throws {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0, fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 else { throw PosixError("fcntl") }
    }

    /// Seconds on the monotonic clock.
    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// Writes all bytes, waiting on a full non-blocking descriptor.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n > 0 { offset += n; continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && errno == EAGAIN {
                var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&pfd, 1, 1000)
                continue
            }
            return false
        }
        return true
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { writeAll(fd, $0) }
    }

    static func writeAll(_ fd: Int32, _ text: String) -> Bool {
        writeAll(fd, Array(text.utf8))
    }

    /// The host name, as rosy's `on_host` compares it.
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The pids whose parent is `parent` (from /proc), e.g. descendants re-parented to a subreaper.
    static func children(of parent: pid_t) -> [pid_t] {
        processTable().filter { $0.parent == parent }.map(\.pid)
    }

    /// Every process of the machine with its parent and process group (from /proc).
    static func processTable() -> [(pid: pid_t, parent: pid_t, group: pid_t)] {
        guard let dir = opendir("/proc") else { return [] }
        defer { closedir(dir) }
        var result: [(pid_t, pid_t, pid_t)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let pid = pid_t(name), let fields = statFields(of: pid), fields.count > 2,
                  let parent = pid_t(fields[1]), let group = pid_t(fields[2]) else { continue }
            result.append((pid, parent, group))
        }
        return result
    }

    /// The fields of /proc/PID/stat after the command name: state, ppid, pgrp, ...
    static func statFields(of pid: pid_t) -> [Substring]? {
        let fd = open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = read(fd, &buffer, buffer.count)
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[0..<n], as: UTF8.self)
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses; split after the last ')'.
        guard let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }
}

struct PosixError: Error, CustomStringConvertible {
    var call: String
    var code: Int32
    init(_ call: String, code: Int32 = errno) { self.call = call; self.code = code }
    var description: String { "\(call): \(String(cString: strerror(code)))" }
}
