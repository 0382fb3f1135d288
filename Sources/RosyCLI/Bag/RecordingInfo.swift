import Foundation
import RosyWire

/// What `rosy bag info` prints about a recording, in rosy's layout:
///
/// ```
/// path:     record_2024-05-01-12-30-00.mcap
/// format:   mcap (zstd chunks)
/// duration: 0:00:04.500000
/// start:    2024-05-01 12:30:00.250000
/// end:      2024-05-01 12:30:04.750000
/// size:     3 KB
/// messages: 10
/// topics:
/// - 'pose':	8 (80%)
/// - 'stop':	2 (20%)
/// ```
struct RecordingInfo {
    var path: String
    var recording: Recording
    var size: Int

    init(path: String) throws {
        self.path = path
        recording = try Recording(path: path)
        size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }

    /// `mcap`, `mcap (zstd chunks)`, `rosy (.bag)`.
    private var formatDescription: String {
        guard recording.format == .mcap else { return "rosy (.bag)" }
        let compressed = recording.chunkCompressions.filter { $0 != .none }.map(\.rawValue)
        return compressed.isEmpty ? "mcap" : "mcap (\(compressed.joined(separator: ", ")) chunks)"
    }

    var text: String {
        let messages = recording.messages
        let start = messages.first.map { LocalDateTime(nanosecondsSinceEpoch: $0.time) }
        let end = messages.last.map { LocalDateTime(nanosecondsSinceEpoch: $0.time) }
        let duration = messages.first.flatMap { first in messages.last.map { pythonTimedelta(nanoseconds: $0.time.subtractingReportingOverflow(first.time).partialValue) } }
        var lines = [
            "path:     \(path)",
            "format:   \(formatDescription)",
            "duration: \(duration ?? "None")",
            "start:    \(start?.pythonDescription ?? "None")",
            "end:      \(end?.pythonDescription ?? "None")",
            "size:     \(humanReadableSize(size))",
            "messages: \(messages.count)",
        ]
        if !recording.isComplete {
            lines.append("complete: no (cut off; read up to the last complete \(recording.format == .mcap ? "chunk" : "message"))")
        }
        var counts: [(String, Int)] = []
        var index: [String: Int] = [:]
        for message in messages {
            if let i = index[message.topic] { counts[i].1 += 1 } else { index[message.topic] = counts.count; counts.append((message.topic, 1)) }
        }
        if counts.isEmpty {
            lines.append("topics:   none")
        } else {
            lines.append("topics:")
            for (topic, count) in counts {
                let percent = Int((100 * Double(count) / Double(messages.count)).rounded(.toNearestOrEven))
                lines.append("- \(topic.pythonQuoted):\t\(count) (\(percent)%)")
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// rosy's sizes: B, KB, MB, GB by 1024, rounded.
func humanReadableSize(_ bytes: Int) -> String {
    var size = Double(bytes)
    for unit in ["B", "KB", "MB"] {
        if size < 1024 { return "\(Int(size.rounded(.toNearestOrEven))) \(unit)" }
        size /= 1024
    }
    return "\(Int(size.rounded(.toNearestOrEven))) GB"
}

extension String {
    /// Python's `repr()` of the string.
    var pythonQuoted: String { pythonStringRepr(self) }
}
