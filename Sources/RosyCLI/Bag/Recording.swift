import Foundation
import OrderedCollections
import RosyWire

/// One recorded topic message, whatever the file format.
struct RecordedMessage: Equatable, Sendable {
    /// When it was received, in nanoseconds since the Unix epoch.
    var time: Int64
    var topic: String
    var args: [Value]
    var kwargs: OrderedDictionary<String, Value>
}

/// A recording read back: its messages in file order.
struct Recording {
    var format: RecordingFormat
    var messages: [RecordedMessage]
    /// False when the file was cut off (an MCAP file without its summary, a `.bag` ending
    /// inside a message): the messages are those up to the cut.
    var isComplete: Bool
    /// MCAP: how its chunks are compressed (each kind once); empty for a `.bag`.
    var chunkCompressions: [MCAPCompression] = []

    /// Reads a recording, detecting its format from its first bytes.
    init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw CLIError("no such recording: \(path)") }
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        try self.init(bytes: [UInt8](data), path: path)
    }

    init(bytes: [UInt8], path: String) throws {
        do {
            if MCAPReader.isMCAP(bytes) {
                format = .mcap
                let contents = try MCAPReader.read(bytes)
                messages = try MCAPRecordingFormat.messages(in: contents)
                isComplete = contents.isComplete
                chunkCompressions = contents.chunkCompressions
            } else if RosyBagFormat.looksLikeBag(bytes) {
                format = .rosy
                (messages, isComplete) = try RosyBagFormat.messages(from: bytes)
            } else {
                throw CLIError("\(path) is not a recording (neither MCAP nor a rosy .bag file)")
            }
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError("\(path): \(error)")
        }
    }
}

/// Where recordings go by default, and which one `play` and `info` pick without `-i`.
enum RecordingFiles {
    /// `record_YYYY-MM-DD-HH-MM-SS.mcap` (or `.bag`), in local time, as rosy names them.
    static func defaultName(format: RecordingFormat, at time: LocalDateTime = .now()) -> String {
        "record_\(time.fileNameStamp).\(format.fileExtension)"
    }

    /// The newest `record_YYYY-MM-DD-HH-MM-SS.mcap|.bag` in `directory`, by the time in its name
    /// (rosy takes the greatest name).
    static func newest(in directory: String) throws -> String {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let recordings = names.filter(isDefaultName)
        // Compare the stamps; on a tie prefer .mcap, this package's default format.
        func key(_ name: String) -> (String, Int) { (String(name.prefix(26)), name.hasSuffix(".mcap") ? 1 : 0) }
        guard let newest = recordings.max(by: { key($0) < key($1) })
        else {
            throw CLIError("no record_*.mcap or record_*.bag file in the current directory; use -i to name one")
        }
        return newest
    }

    static func isDefaultName(_ name: String) -> Bool {
        let stem: Substring
        if name.hasSuffix(".mcap") { stem = name.dropLast(5) } else if name.hasSuffix(".bag") { stem = name.dropLast(4) } else { return false }
        guard stem.hasPrefix("record_") else { return false }
        let stamp = Array(stem.dropFirst(7).utf8)
        guard stamp.count == 19 else { return false }
        for (i, c) in stamp.enumerated() {
            if [4, 7, 10, 13, 16].contains(i) { guard c == UInt8(ascii: "-") else { return false } }
            else { guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) else { return false } }
        }
        return true
    }
}

/// Appends messages to a recording file in one of the formats.
protocol RecordingWriter: AnyObject {
    func append(_ message: RecordedMessage) throws
    /// Makes what was appended so far survive a crash of this process.
    func flush() throws
    /// Completes the file (MCAP: summary and footer). Appending after this is an error.
    func finish() throws
}

func makeRecordingWriter(path: String, format: RecordingFormat, topics: [String],
                         compression: MCAPCompression = .none) throws -> RecordingWriter {
    switch format {
    case .mcap: return try MCAPRecordingWriter(path: path, topics: topics, compression: compression)
    case .rosy: return try RosyBagWriter(path: path)
    }
}
