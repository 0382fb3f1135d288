#if canImport(Glibc)
import Glibc
#endif

/// Which stream a line came from.
public enum LogStream: Sendable {
    case stdout, stderr
    /// The supervisor's own messages.
    case supervisor

    /// The mark between the prefix and the text: `|` for stdout, `!` for stderr, `*` for rosy-launch.
    var mark: UInt8 {
        switch self {
        case .stdout: return UInt8(ascii: "|")
        case .stderr: return UInt8(ascii: "!")
        case .supervisor: return UInt8(ascii: "*")
        }
    }
}

/// Who writes a line: a node copy (its label such as `camera` or `camera-2`), or rosy-launch.
final class LogSource {
    let label: String
    let node: String
    let color: Int
    fileprivate var file: RotatingFile?
    fileprivate var fileBuffer: [UInt8] = []
    /// The label padded to the column width, as bytes (computed once, used for every line).
    fileprivate var paddedLabel: [UInt8] = []

    init(label: String, node: String, color: Int) {
        self.label = label
        self.node = node
        self.color = color
    }
}

/// Writes every line to the terminal (prefixed, coloured), the merged log and the node's log.
///
/// Lines are gathered into buffers and written whole by `flush()`, so lines of two nodes never
/// mix and a burst costs one write per sink.
final class LogWriter {
    struct Options {
        var color: Bool
        var timestamps: Bool
        /// The run's folder; nil writes no files.
        var runDirectory: String?
        var maximumSize: Int
        var keep: Int
        var labelWidth: Int
    }

    static let palette: [[UInt8]] = [36, 33, 32, 35, 34, 96, 93, 92, 95, 94].map { Array("\u{1B}[\($0)m".utf8) }
    static let reset = Array("\u{1B}[0m".utf8)
    static let red = Array("\u{1B}[1;31m".utf8)

    let options: Options
    private let terminal: TerminalWriter
    private var terminalBuffer: [UInt8] = []
    private var mergedBuffer: [UInt8] = []
    private var merged: RotatingFile?
    private var sources: [LogSource] = []
    private var clock = Timestamps()
    let supervisorSource: LogSource

    init(options: Options, terminal: Int32 = 1) throws {
        self.options = options
        self.terminal = TerminalWriter(fd: terminal)
        supervisorSource = LogSource(label: "rosy-launch", node: "rosy-launch", color: -1)
        supervisorSource.paddedLabel = Self.padded("rosy-launch", width: options.labelWidth)
        terminalBuffer.reserveCapacity(1 << 20)
        mergedBuffer.reserveCapacity(1 << 20)
        if let folder = options.runDirectory {
            try Self.makeDirectories(folder + "/nodes")
            merged = try RotatingFile(path: folder + "/launch.log", maximumSize: options.maximumSize, keep: options.keep)
        }
    }

    /// A source for a node copy; copies of one node share its log file.
    func source(label: String, node: String) throws -> LogSource {
        let source = LogSource(label: label, node: node, color: sources.count)
        source.paddedLabel = padded(label)
        if let folder = options.runDirectory {
            if let sibling = sources.first(where: { $0.node == node }) {
                source.file = sibling.file
            } else {
                source.file = try RotatingFile(path: "\(folder)/nodes/\(node).log",
                                               maximumSize: options.maximumSize, keep: options.keep)
            }
        }
        sources.append(source)
        return source
    }

    /// Reads the clock once for the lines that follow (all lines of one read share a time).
    func tick() { clock.update() }

    /// Adds one line (without newline) from `source`.
    func line(_ text: UnsafeRawBufferPointer, from source: LogSource, stream: LogStream) {
        // Terminal: [time ]<colour>label<pad> |<reset> text
        if options.timestamps {
            terminalBuffer.append(contentsOf: clock.local)
            terminalBuffer.append(0x20)
        }
        let colored = options.color
        if colored {
            terminalBuffer.append(contentsOf: source.color < 0 ? Self.red : Self.palette[source.color % Self.palette.count])
        }
        terminalBuffer.append(contentsOf: source.paddedLabel)
        if colored && stream == .stderr {
            terminalBuffer.append(contentsOf: Self.reset)
            terminalBuffer.append(contentsOf: Self.red)
        }
        terminalBuffer.append(stream.mark)
        if colored { terminalBuffer.append(contentsOf: Self.reset) }
        terminalBuffer.append(0x20)
        terminalBuffer.append(contentsOf: text)
        terminalBuffer.append(0x0A)

        if terminalBuffer.count > 1 << 20 { flush() }
        guard merged != nil else { return }
        // Files: <UTC time> label<pad> | text
        let start = mergedBuffer.count
        mergedBuffer.append(contentsOf: clock.utc)
        mergedBuffer.append(0x20)
        mergedBuffer.append(contentsOf: source.paddedLabel)
        mergedBuffer.append(stream.mark)
        mergedBuffer.append(0x20)
        mergedBuffer.append(contentsOf: text)
        mergedBuffer.append(0x0A)
        if source.file != nil {
            source.fileBuffer.append(contentsOf: mergedBuffer[start...])
        }
        if mergedBuffer.count > 1 << 20 { flush() }
    }

    /// A message of rosy-launch itself.
    func note(_ message: String) {
        tick()
        var text = message
        text.withUTF8 { line(UnsafeRawBufferPointer($0), from: supervisorSource, stream: .supervisor) }
    }

    /// Writes out everything gathered.
    func flush() {
        if !terminalBuffer.isEmpty {
            terminal.enqueue(terminalBuffer)
            terminalBuffer.removeAll(keepingCapacity: true)
        }
        if let merged, !mergedBuffer.isEmpty {
            merged.append(mergedBuffer)
            mergedBuffer.removeAll(keepingCapacity: true)
        }
        for source in sources where !source.fileBuffer.isEmpty {
            source.file?.append(source.fileBuffer)
            source.fileBuffer.removeAll(keepingCapacity: true)
        }
    }

    /// Flushes and waits until the terminal has taken every line.
    func close() {
        flush()
        terminal.close()
    }

    private func padded(_ label: String) -> [UInt8] { Self.padded(label, width: options.labelWidth) }

    static func padded(_ label: String, width: Int) -> [UInt8] {
        Array(label.utf8) + Array(repeating: 0x20, count: max(1, width - label.utf8.count + 1))
    }

    static func makeDirectories(_ path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw PosixError("mkdir \(current)")
            }
        }
    }
}
