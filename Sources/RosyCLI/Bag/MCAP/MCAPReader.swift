/// Reads the messages of an MCAP file, in file order, with their channels.
///
/// It walks the data section record by record rather than trusting the summary, so a
/// file whose writer was killed (no summary, a partial last record) still reads up to its
/// last complete chunk; ``Contents/isComplete`` tells which case it was. Chunks must be
/// uncompressed, zstd or lz4 (``MCAPCompression``); CRCs are checked when present.
///
/// ```swift
/// let contents = try MCAPReader.read(bytes)
/// for message in contents.messages { print(contents.channels[message.channelID]?.topic ?? "?") }
/// ```
enum MCAPReader {
    struct Channel {
        var id: UInt16
        var topic: String
        var messageEncoding: String
        var schemaID: UInt16
    }

    struct Message {
        var channelID: UInt16
        var logTime: UInt64
        var data: ArraySlice<UInt8>
    }

    struct Contents {
        var channels: [UInt16: Channel] = [:]
        var messages: [Message] = []
        /// False when the file ends before its Data End record (e.g. the writer was killed).
        var isComplete = false
        /// How its chunks are compressed, each kind once, in the order first seen.
        var chunkCompressions: [MCAPCompression] = []
    }

    static func isMCAP(_ bytes: [UInt8]) -> Bool {
        bytes.count >= mcapMagic.count && Array(bytes.prefix(mcapMagic.count)) == mcapMagic
    }

    static func read(_ bytes: [UInt8]) throws -> Contents {
        guard isMCAP(bytes) else { throw MCAPError("not an MCAP file (no MCAP magic at the start)") }
        var contents = Contents()
        var decoder = MCAPDecoder(bytes[mcapMagic.count...])
        var sawHeader = false
        while true {
            // A record that does not fit in what is left means the file was cut off here.
            guard decoder.remaining >= 9 else { return contents }
            let opcode = try decoder.u8()
            let declared = try decoder.u64()
            guard let length = Int(exactly: declared), length <= decoder.remaining else { return contents }
            var body = MCAPDecoder(try decoder.take(length))
            if !sawHeader {
                guard opcode == MCAPOpcode.header.rawValue else { throw MCAPError("corrupt MCAP file: it does not start with a header record") }
                sawHeader = true
                continue
            }
            switch MCAPOpcode(rawValue: opcode) {
            case .channel:
                let channel = try readChannel(&body)
                contents.channels[channel.id] = channel
            case .message:
                contents.messages.append(try readMessage(&body))
            case .chunk:
                try readChunk(&body, into: &contents)
            case .dataEnd, .footer:
                contents.isComplete = true
                return contents
            default:
                continue  // schemas, indexes, attachments, metadata: not needed to replay
            }
        }
    }

    private static func readChannel(_ body: inout MCAPDecoder) throws -> Channel {
        let id = try body.u16()
        let schemaID = try body.u16()
        let topic = try body.string()
        let encoding = try body.string()
        return Channel(id: id, topic: topic, messageEncoding: encoding, schemaID: schemaID)
    }

    private static func readMessage(_ body: inout MCAPDecoder) throws -> Message {
        let channel = try body.u16()
        _ = try body.u32()  // sequence
        let logTime = try body.u64()
        _ = try body.u64()  // publish time
        return Message(channelID: channel, logTime: logTime, data: try body.take(body.remaining))
    }

    private static func readChunk(_ body: inout MCAPDecoder, into contents: inout Contents) throws {
        _ = try body.u64()  // message start time
        _ = try body.u64()  // message end time
        let uncompressedSize = try body.u64()
        let crc = try body.u32()
        let compression = try MCAPCompression(field: try body.string())
        if !contents.chunkCompressions.contains(compression) { contents.chunkCompressions.append(compression) }
        let stored = try body.take(try body.length())
        // A chunk is rarely over a few MB (this package writes 1 MB ones): a larger size is
        // refused rather than allocated.
        guard let size = Int(exactly: uncompressedSize), size <= 1 << 30 else {
            throw MCAPError("MCAP chunk of \(uncompressedSize) bytes uncompressed: larger than 1 GiB, not read")
        }
        let records = try compression.decompress(stored, size: size)
        if crc != 0, CRC32.checksum(records) != crc { throw MCAPError("corrupt MCAP chunk: CRC mismatch") }
        var inner = MCAPDecoder(records[...])
        while !inner.isAtEnd {
            let opcode = try inner.u8()
            var record = MCAPDecoder(try inner.take(try inner.length()))
            switch MCAPOpcode(rawValue: opcode) {
            case .channel:
                let channel = try readChannel(&record)
                contents.channels[channel.id] = channel
            case .message:
                contents.messages.append(try readMessage(&record))
            default:
                continue
            }
        }
    }
}
