import NIOCore
import OrderedCollections
import RosyWire

/// rosy messages in MCAP: one channel per topic, message encoding `json`, each message
/// the object `{"args": [...], "kwargs": {...}}` (a JSON schema says so), log time the
/// receive time.
enum MCAPRecordingFormat {
    static let schema = MCAPWriter.Schema(
        name: MessageJSON.schemaName, encoding: "jsonschema", data: Array(MessageJSON.schema.utf8))

    static func messageData(_ message: RecordedMessage) -> [UInt8] {
        Array(MessageJSON.text(args: message.args, kwargs: message.kwargs).utf8)
    }

    /// The rosy messages of an MCAP file read by ``MCAPReader``.
    static func messages(in contents: MCAPReader.Contents) throws -> [RecordedMessage] {
        var messages: [RecordedMessage] = []
        messages.reserveCapacity(contents.messages.count)
        for message in contents.messages {
            guard let channel = contents.channels[message.channelID] else {
                throw MCAPError("corrupt MCAP file: a message on unknown channel \(message.channelID)")
            }
            guard channel.messageEncoding == "json" else {
                throw MCAPError("channel '\(channel.topic)' has message encoding '\(channel.messageEncoding)'; rosy reads only 'json'")
            }
            let arguments: (args: [Value], kwargs: Kwargs)
            do {
                arguments = try MessageJSON.arguments(from: message.data)
            } catch {
                throw MCAPError("a message on '\(channel.topic)': \(error)")
            }
            let time = Int64(clamping: message.logTime)
            messages.append(RecordedMessage(time: time, topic: channel.topic, args: arguments.args, kwargs: arguments.kwargs))
        }
        return messages
    }
}

/// Writes rosy messages to an MCAP file (see ``MCAPRecordingFormat``).
final class MCAPRecordingWriter: RecordingWriter {
    private let writer: MCAPWriter
    private var channels: [String: UInt16] = [:]

    /// Creates the file; the topics' channels come first, in the order given.
    init(path: String, topics: [String], chunkSizeLimit: Int = 1 << 20,
         compression: MCAPCompression = .none) throws {
        writer = try MCAPWriter(path: path, library: "rosy-swift \(RosyCommand.version)")
        writer.chunkSizeLimit = chunkSizeLimit
        writer.compression = compression
        for topic in topics { _ = try channel(for: topic) }
    }

    private func channel(for topic: String) throws -> UInt16 {
        if let id = channels[topic] { return id }
        let id = try writer.addChannel(topic: topic, messageEncoding: "json", schema: MCAPRecordingFormat.schema)
        channels[topic] = id
        return id
    }

    func append(_ message: RecordedMessage) throws {
        let channel = try channel(for: message.topic)
        try writer.addMessage(channel: channel, logTime: UInt64(clamping: message.time),
                              data: MCAPRecordingFormat.messageData(message))
    }

    func flush() throws { try writer.flushChunk() }

    func finish() throws { try writer.finish() }
}
