import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Calls `onChange` on a thread of its own whenever a folder's entries change (inotify),
/// with the names of the files that changed, and at least every `sweepInterval` anyway
/// (with no names), until ``stop()``.
///
/// The events watched are those a registry needs: files created, renamed in or out,
/// deleted, and closed after writing. The last one is what a killed process leaves: the
/// kernel closes its descriptors, so its lock file reports `IN_CLOSE_WRITE`.
final class DirectoryWatcher: Sendable {
    private let wakeWrite: Int32
    private let done = DispatchSemaphore(value: 0)
    private let stopped = Mutex(false)
    private let token = UUID().uuidString
    private static let threadKey = "rosy.registry-watcher"

    init(path: String, sweepInterval: Duration = .milliseconds(250), onChange: @escaping @Sendable (Set<String>) -> Void) throws {
        let inotifyFD = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard inotifyFD >= 0 else { throw RegistryError("inotify_init1 failed: \(errnoText())") }
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE)
        guard inotify_add_watch(inotifyFD, path, mask) >= 0 else {
            let text = errnoText()
            close(inotifyFD)
            throw RegistryError("cannot watch \(path): \(text)")
        }
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else {
            let text = errnoText()
            close(inotifyFD)
            throw RegistryError("pipe failed: \(text)")
        }
        for pipeFD in pipeFDs {
            _ = fcntl(pipeFD, F_SETFD, FD_CLOEXEC)
            _ = fcntl(pipeFD, F_SETFL, fcntl(pipeFD, F_GETFL) | O_NONBLOCK)
        }
        let wakeRead = pipeFDs[0]
        wakeWrite = pipeFDs[1]
        let milliseconds = Int32(sweepInterval.components.seconds * 1000
            + sweepInterval.components.attoseconds / 1_000_000_000_000_000)
        let thread = Thread { [wakeWrite, done, token] in
            Thread.current.threadDictionary[Self.threadKey] = token
            Self.run(inotifyFD: inotifyFD, wakeFD: wakeRead, timeout: milliseconds, onChange: onChange)
            close(inotifyFD)
            close(wakeRead)
            close(wakeWrite)
            done.signal()
        }
        thread.name = "rosy-registry-watch"
        thread.start()
    }

    /// Stops the thread, and waits for it to finish its current scan unless called from
    /// that scan itself. Later calls do nothing.
    func stop() {
        let first = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
        if Thread.current.threadDictionary[Self.threadKey] as? String != token {
            done.wait()
        }
    }

    private static func run(inotifyFD: Int32, wakeFD: Int32, timeout: Int32, onChange: (Set<String>) -> Void) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var fds = [pollfd(fd: inotifyFD, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
        var changed: Set<String> = []
        while true {
            onChange(changed)
            changed = []
            fds[0].revents = 0
            fds[1].revents = 0
            let ready = poll(&fds, 2, timeout)
            if ready < 0 && errno != EINTR { return }
            if fds[1].revents != 0 { return }
            if fds[0].revents != 0 {
                // Drain every queued event: one scan covers them all.
                while true {
                    let count = read(inotifyFD, &buffer, buffer.count)
                    guard count > 0 else { break }
                    changed.formUnion(names(in: buffer[0..<count]))
                }
            }
        }
    }

    /// The file names in a buffer of `inotify_event`s (a 16-byte header, then `len` bytes of
    /// NUL-padded name).
    private static func names(in events: ArraySlice<UInt8>) -> [String] {
        var names: [String] = []
        var offset = events.startIndex
        while offset + 16 <= events.endIndex {
            let length = Int(events[offset + 12]) | Int(events[offset + 13]) << 8
                | Int(events[offset + 14]) << 16 | Int(events[offset + 15]) << 24
            let start = offset + 16
            guard length >= 0, start + length <= events.endIndex else { break }
            let name = events[start..<(start + length)].prefix { $0 != 0 }
            if !name.isEmpty { names.append(String(decoding: name, as: UTF8.self)) }
            offset = start + length
        }
        return names
    }
}
