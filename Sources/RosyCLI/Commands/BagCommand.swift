import ArgumentParser
import Foundation

/// `rosy bag ...`
struct BagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bag",
        abstract: "Record topic messages to a file, play them back, describe a recording.",
        discussion: """
        Recordings are MCAP files by default (chunked, indexed, one channel per topic, messages \
        as JSON {"args": [...], "kwargs": {...}}), or rosy 0.8.3's .bag format with --format rosy. \
        play and info detect the format; without -i they use the newest record_*.mcap or \
        record_*.bag file in the current directory.
        """,
        subcommands: [Record.self, Play.self, Info.self]
    )
}

/// The file formats of `rosy bag`.
public enum RecordingFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// MCAP with JSON messages.
    case mcap
    /// rosy 0.8.3's `.bag`: a sequence of pickles.
    case rosy

    var fileExtension: String { self == .mcap ? "mcap" : "bag" }
}

/// `rosy bag record --compression`: how MCAP chunks are compressed.
public enum ChunkCompression: String, ExpressibleByArgument, CaseIterable, Sendable {
    case none, zstd, lz4

    var mcap: MCAPCompression {
        switch self {
        case .none: .none
        case .zstd: .zstd
        case .lz4: .lz4
        }
    }
}

extension BagCommand {
    /// `rosy bag record TOPIC... [-o FILE] [--format mcap|rosy] [--compression none|zstd|lz4]`
    struct Record: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record the messages of topics to a file until Ctrl+C.",
            discussion: "Example: rosy bag record my-topic other-topic -o run1.mcap"
        )

        @OptionGroup var common: CommonOptions

        @Option(help: "The node's name.")
        var name = "rosy bag record"

        @Option(name: .shortAndLong, help: "The file to write. Default: record_YYYY-MM-DD-HH-MM-SS.mcap (or .bag).")
        var output: String?

        @Option(help: "The file format: mcap or rosy. Default: from the -o file's extension (.bag is rosy), else mcap.")
        var format: RecordingFormat?

        @Option(help: "How MCAP chunks are compressed.")
        var compression: ChunkCompression = .none

        @Flag(help: "Do not print a '.' for each message recorded.")
        var noDots = false

        @Argument(help: "The topics to record.")
        var topics: [String]

        /// --format, else from the -o file's extension, else MCAP.
        private var fileFormat: RecordingFormat {
            format ?? (output.map { $0.hasSuffix(".bag") ? .rosy : .mcap } ?? .mcap)
        }

        func validate() throws {
            guard !topics.isEmpty else { throw ValidationError("give at least one topic to record") }
            if compression != .none, fileFormat == .rosy {
                throw ValidationError("--compression applies to MCAP recordings; rosy's .bag format has none")
            }
        }

        func run() async throws {
            common.startLogging()
            let format = fileFormat
            let path = output ?? RecordingFiles.defaultName(format: format)
            try await BagRecorder(common: common, name: name, topics: topics, path: path,
                                  format: format, compression: compression.mcap, printDots: !noDots).run()
        }
    }

    /// `rosy bag play [-i FILE] [--rate R] [--immediate] [--topics T...] [--loop]`
    struct Play: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send the messages of a recording again, with their timing.",
            discussion: "Example: rosy bag play -i run1.mcap --rate 2 --topics my-topic"
        )

        @OptionGroup var common: CommonOptions

        @Option(help: "The node's name.")
        var name = "rosy bag play"

        @Option(name: [.customShort("i"), .customLong("input")], help: "The recording. Default: the newest record_* file in the current directory.")
        var input: String?

        @Option(name: .shortAndLong, help: "Playback speed: 2 plays twice as fast.")
        var rate: Double = 1

        @Flag(help: "Send every message at once, without the recorded timing.")
        var immediate = false

        @Option(parsing: .upToNextOption, help: "Play only these topics.")
        var topics: [String] = []

        @Flag(help: "Start again from the beginning after the last message, until Ctrl+C.")
        var loop = false

        @Option(help: "Seconds to wait, at most, for each topic to have a listener before playing.")
        var waitForListeners: Double = 2

        @Flag(help: "Do not print the messages sent.")
        var noLog = false

        @Flag(help: "Print only the topic of each message sent, not its args and kwargs.")
        var noLogArgs = false

        func validate() throws {
            guard rate > 0, rate.isFinite else { throw ValidationError("--rate must be more than 0") }
        }

        func run() async throws {
            common.startLogging()
            let path = try input ?? RecordingFiles.newest(in: FileManager.default.currentDirectoryPath)
            try await BagPlayer(common: common, name: name, path: path, rate: rate, immediate: immediate,
                                topics: topics.isEmpty ? nil : Set(topics), loop: loop,
                                log: !noLog, logArgs: !noLogArgs, waitForListeners: waitForListeners).run()
        }
    }

    /// `rosy bag info [-i FILE]`
    struct Info: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Describe a recording: duration, size, messages per topic.",
            discussion: "Example: rosy bag info -i run1.mcap"
        )

        @Option(name: [.customShort("i"), .customLong("input")], help: "The recording. Default: the newest record_* file in the current directory.")
        var input: String?

        func run() async throws {
            let path = try input ?? RecordingFiles.newest(in: FileManager.default.currentDirectoryPath)
            say(try RecordingInfo(path: path).text)
        }
    }
}
