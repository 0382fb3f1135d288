#if canImport(Glibc)
import Glibc
#endif

/// One running copy of a node, as the supervisor tracks it: state machine, process, pipes,
/// deadlines.
final class NodeCopy {
    let node: NodeConfig
    /// 1-based copy index.
    let index: Int
    /// `camera` when the node has one copy, `camera-2` for its second copy of several: the
    /// name passed with `--name` and shown in logs and `status`.
    let label: String
    var machine: NodeStateMachine
    let log: LogSource

    var pid: pid_t?
    /// Monotonic time of the last spawn.
    var startedAt: Double?
    var restartDeadline: Double?
    var stopDeadline: Double?
    /// `rosy-launch restart`: start again once the stop is done.
    var restartAfterStop = false
    /// `rosy-launch stop`: the user wants it down; the launch does not end because of it.
    var stoppedByUser = false
    var outputs: [OutputPipe] = []

    init(node: NodeConfig, index: Int, log: LogSource) {
        self.node = node
        self.index = index
        self.label = log.label
        self.machine = NodeStateMachine(policy: .init(node))
        self.log = log
    }

    static func label(node: String, index: Int, of number: Int) -> String {
        number > 1 ? "\(node)-\(index)" : node
    }

    var state: NodeStateMachine.State { machine.state }
}

/// The read end of a node's stdout or stderr pipe and its partial line.
final class OutputPipe {
    let fd: Int32
    let stream: LogStream
    let source: LogSource
    var lines = LineAssembler()
    var isOpen = true

    init(fd: Int32, stream: LogStream, source: LogSource) {
        self.fd = fd
        self.stream = stream
        self.source = source
    }

    /// Reads what is there (at most `limit` bytes, so one flood cannot starve the others)
    /// and hands whole lines to the writer. Returns false at end of stream.
    func drain(into writer: LogWriter, buffer: UnsafeMutableRawBufferPointer, limit: Int) -> Bool {
        guard isOpen else { return false }
        var total = 0
        while total < limit {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n > 0 {
                total += n
                writer.tick()
                lines.feed(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) { line in
                    writer.line(line, from: source, stream: stream)
                }
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return true }
            // End of stream (or an error that ends it).
            writer.tick()
            lines.finish { line in writer.line(line, from: source, stream: stream) }
            close(fd)
            isOpen = false
            return false
        }
        return true
    }
}
