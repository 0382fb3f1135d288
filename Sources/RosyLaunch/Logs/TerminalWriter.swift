import Foundation

/// Writes the terminal's lines from a thread of its own, so a slow reader of rosy-launch's
/// output (a paused terminal, a busy journald) does not hold up the supervisor loop: signals,
/// restarts and log files go on. Up to `limit` bytes wait in memory; beyond that `enqueue`
/// waits too, so nothing is ever dropped.
final class TerminalWriter: @unchecked Sendable {
    private let fd: Int32
    private let limit: Int
    private let condition = NSCondition()
    private var queue: [[UInt8]] = []
    private var queued = 0
    private var closed = false
    private var finished = false

    init(fd: Int32, limit: Int = 64 << 20) {
        self.fd = fd
        self.limit = limit
        let thread = Thread { [self] in run() }
        thread.name = "rosy-launch terminal"
        thread.start()
    }

    /// Hands bytes over (waits only while `limit` bytes are already waiting).
    func enqueue(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        condition.lock()
        while queued >= limit && !finished { condition.wait() }
        queue.append(bytes)
        queued += bytes.count
        condition.broadcast()
        condition.unlock()
    }

    /// Writes out what is waiting and stops the thread.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while queue.isEmpty && !closed { condition.wait() }
            if queue.isEmpty && closed {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch = queue
            queue.removeAll()
            condition.unlock()
            var written = 0
            for bytes in batch {
                _ = Posix.writeAll(fd, bytes)  // a closed terminal: keep going for the files
                written += bytes.count
            }
            condition.lock()
            queued -= written
            condition.broadcast()
            condition.unlock()
        }
    }
}
