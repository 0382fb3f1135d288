import ArgumentParser
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension RosyLaunchCommand {
    /// `rosy-launch logs [-f] [-n N] [NODE...]`: the merged log of a running launch.
    public struct Logs: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Show the merged log of a running launch, optionally of some nodes only.")

        @Argument(help: "Only these nodes (or copies, e.g. camera-2).") var nodes: [String] = []
        @Flag(name: .shortAndLong, help: "Keep printing new lines until the launch ends (or Ctrl+C).") var follow = false
        @Option(name: .short, help: ArgumentHelp("Lines to show from the end.", valueName: "lines")) var n = 20
        @OptionGroup var selection: LaunchSelection
        @Option(help: ArgumentHelp("When the launch named by --launch has ended: the log folder it used "
                                   + "(default ~/.rosy/log); its last run is shown.", valueName: "path"))
        var logDir: String?
        public init() {}

        public func run() throws {
            let folder: String
            var client: ControlClient?
            do {
                let running = try selection.client()
                let status = try running.status()
                guard let logDirectory = status.logDirectory else {
                    throw ValidationError("this launch writes no log files (--no-log-files)")
                }
                folder = logDirectory
                client = running
            } catch let error as ControlError {
                // Not running: the last run of the launch named by --launch, if there is one.
                guard let launch = selection.launch else { throw ValidationError(error.description) }
                let environment = ProcessInfo.processInfo.environment
                var base = logDir ?? "~/.rosy/log"
                if base == "~" || base.hasPrefix("~/") { base = (environment["HOME"] ?? NSHomeDirectory()) + base.dropFirst() }
                folder = base + "/" + ControlClient.launchName(launch) + "-latest"
                guard FileManager.default.fileExists(atPath: folder + "/launch.log") else {
                    throw ValidationError("\(error.description), and no earlier run in \(folder)")
                }
            }
            let path = folder + "/launch.log"
            let filter = LogFilter(nodes: nodes)
            var follower = try LogFollower(path: path)
            let lines = follower.readAll().filter(filter.matches)
            for line in lines.suffix(max(0, n)) { print(line) }
            guard follow else { return }
            fflush(nil)
            var lastCheck = Date()
            while true {
                usleep(200_000)
                for line in follower.readNew() where filter.matches(line) { print(line) }
                fflush(nil)
                if Date().timeIntervalSince(lastCheck) > 1 {
                    lastCheck = Date()
                    if !(client.map { ControlClient.isListening($0.path) } ?? false) {
                        for line in follower.readNew() where filter.matches(line) { print(line) }
                        return
                    }
                }
            }
        }
    }
}

/// Keeps lines of some nodes: a merged-log line is `TIME LABEL MARK TEXT`.
struct LogFilter {
    let nodes: [String]

    func matches(_ line: String) -> Bool {
        guard !nodes.isEmpty else { return true }
        let fields = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard fields.count >= 2 else { return false }
        let label = String(fields[1])
        return nodes.contains { node in
            label == node || (label.hasPrefix(node + "-") && Int(label.dropFirst(node.count + 1)) != nil)
        }
    }
}

/// Reads a log file's lines and then the lines added since, across rotation.
struct LogFollower {
    let path: String
    private var handle: FileHandle?
    private var inode: UInt64 = 0
    private var partial = Data()

    init(path: String) throws {
        self.path = path
        try open()
    }

    private mutating func open() throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ValidationError("cannot read \(path)")
        }
        self.handle = handle
        var info = stat()
        inode = stat(path, &info) == 0 ? UInt64(info.st_ino) : 0
        partial = Data()
    }

    mutating func readAll() -> [String] { readNew() }

    /// Lines added since the last read (whole lines only).
    mutating func readNew() -> [String] {
        var lines: [String] = []
        lines += take(handle?.readDataToEndOfFile() ?? Data())
        var info = stat()
        if stat(path, &info) == 0, UInt64(info.st_ino) != inode {
            // Rotated: the old file is finished; go on with the new one from its start.
            try? open()
            lines += take(handle?.readDataToEndOfFile() ?? Data())
        }
        return lines
    }

    private mutating func take(_ data: Data) -> [String] {
        partial.append(data)
        guard let last = partial.lastIndex(of: 0x0A) else { return [] }
        let complete = partial[partial.startIndex..<last]
        partial = Data(partial[(last + 1)...])
        return complete.split(separator: 0x0A, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
    }
}
