import Foundation

/// Writes an MCAP file: chunked, indexed, one channel per topic, with a summary.
///
/// Chunks (uncompressed, or zstd or lz4 with ``compression``) are written whole, so a file
/// cut off by a crash stays readable up to its last complete chunk; call ``flushChunk()``
/// regularly (the recorder does, every second) to bound what a crash can lose.
/// ``finish()`` writes the summary and footer.
///
/// ```swift
/// let writer = try MCAPWriter(path: "run.mcap")
/// let channel = try writer.addChannel(topic: "pose", messageEncoding: "json", schema: schema)
/// try writer.addMessage(channel: channel, logTime: nanoseconds, data: Array(json.utf8))
/// try writer.finish()
/// ```
final class MCAPWriter {
    /// A schema to attach to channels: name, encoding (e.g. `jsonschema`) and text.
    struct Schema: Hashable {
        var name: String
        var encoding: String
        var data: [UInt8]
    }

    /// A chunk is written once its records reach this many bytes.
    var chunkSizeLimit = 1 << 20

    /// How each chunk's records are compressed (none by default, as `ros2 bag record`).
    var compression = MCAPCompression.none

    private let file: FileHandle
    private var offset: UInt64 = 0
    private var dataCRC = CRC32()
    private var finished = false

    private var schemas: [(id: UInt16, schema: Schema)] = []
    private var channels: [(id: UInt16, topic: String, encoding: String, schemaID: UInt16)] = []
    private var schemaRecords: [UInt8] = []
    private var channelRecords: [UInt8] = []

    private var chunk = MCAPEncoder()
    private var chunkStart: UInt64 = .max
    private var chunkEnd: UInt64 = 0
    private var chunkIndexEntries: [UInt16: [(UInt64, UInt64)]] = [:]
    private var chunkIndexes: [UInt8] = []

    private var messageCount: UInt64 = 0
    private var chunkCount: UInt32 = 0
    private var firstLogTime: UInt64 = .max
    private var lastLogTime: UInt64 = 0
    private var messagesPerChannel: [UInt16: UInt64] = [:]
    private var sequence: UInt32 = 0

    /// Creates (or truncates) the file and writes the magic and header.
    init(path: String, library: String = "rosy-swift") throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw MCAPError("cannot create \(path)")
        }
        guard let file = FileHandle(forWritingAtPath: path) else { throw MCAPError("cannot open \(path) for writing") }
        self.file = file
        var header = MCAPEncoder()
        header.raw(mcapMagic)
        header.record(.header) { $0.string(""); $0.string(library) }
        try writeData(header.bytes)
    }

    /// Registers a channel (and its schema, once) and returns the channel id for ``addMessage``.
    func addChannel(topic: String, messageEncoding: String, schema: Schema?) throws -> UInt16 {
        var records = MCAPEncoder()
        var schemaID: UInt16 = 0
        if let schema {
            if let known = schemas.first(where: { $0.schema == schema }) {
                schemaID = known.id
            } else {
                schemaID = UInt16(schemas.count + 1)
                schemas.append((schemaID, schema))
                var record = MCAPEncoder()
                record.record(.schema) {
                    $0.u16(schemaID); $0.string(schema.name); $0.string(schema.encoding); $0.prefixedBytes(schema.data)
                }
                schemaRecords += record.bytes
                records.raw(record.bytes)
            }
        }
        guard channels.count < Int(UInt16.max) else { throw MCAPError("too many channels") }
        let channelID = UInt16(channels.count + 1)
        channels.append((channelID, topic, messageEncoding, schemaID))
        var record = MCAPEncoder()
        record.record(.channel) {
            $0.u16(channelID); $0.u16(schemaID); $0.string(topic); $0.string(messageEncoding)
            $0.u32(0)  // no metadata
        }
        channelRecords += record.bytes
        records.raw(record.bytes)
        // Outside any chunk, so a reader knows the channel before its first message.
        try writeData(records.bytes)
        return channelID
    }

    /// Adds a message to the current chunk; writes the chunk once it is big enough.
    func addMessage(channel: UInt16, logTime: UInt64, publishTime: UInt64? = nil, data: [UInt8]) throws {
        let offsetInChunk = UInt64(chunk.bytes.count)
        chunk.record(.message) {
            $0.u16(channel); $0.u32(sequence); $0.u64(logTime); $0.u64(publishTime ?? logTime); $0.raw(data)
        }
        sequence &+= 1
        chunkIndexEntries[channel, default: []].append((logTime, offsetInChunk))
        chunkStart = min(chunkStart, logTime)
        chunkEnd = max(chunkEnd, logTime)
        firstLogTime = min(firstLogTime, logTime)
        lastLogTime = max(lastLogTime, logTime)
        messageCount += 1
        messagesPerChannel[channel, default: 0] += 1
        if chunk.bytes.count >= chunkSizeLimit { try flushChunk() }
    }

    /// Writes the messages added so far as one chunk and its message indexes (no-op when none).
    func flushChunk() throws {
        guard !chunk.bytes.isEmpty else { return }
        let records = chunk.bytes
        let stored = try compression.compress(records)
        let chunkOffset = offset
        var out = MCAPEncoder()
        out.record(.chunk) {
            $0.u64(chunkStart); $0.u64(chunkEnd)
            $0.u64(UInt64(records.count)); $0.u32(CRC32.checksum(records))
            $0.string(compression.rawValue)
            $0.u64(UInt64(stored.count)); $0.raw(stored)
        }
        let chunkLength = UInt64(out.bytes.count)
        var indexOffsets: [(UInt16, UInt64)] = []
        for channel in chunkIndexEntries.keys.sorted() {
            indexOffsets.append((channel, chunkOffset + UInt64(out.bytes.count)))
            let entries = chunkIndexEntries[channel] ?? []
            out.record(.messageIndex) {
                $0.u16(channel)
                $0.u32(UInt32(entries.count * 16))
                for (time, position) in entries { $0.u64(time); $0.u64(position) }
            }
        }
        let indexLength = UInt64(out.bytes.count) - chunkLength
        var index = MCAPEncoder()
        index.record(.chunkIndex) {
            $0.u64(chunkStart); $0.u64(chunkEnd); $0.u64(chunkOffset); $0.u64(chunkLength)
            $0.u32(UInt32(indexOffsets.count * 10))
            for (channel, position) in indexOffsets { $0.u16(channel); $0.u64(position) }
            $0.u64(indexLength)
            $0.string(compression.rawValue)
            $0.u64(UInt64(stored.count)); $0.u64(UInt64(records.count))
        }
        chunkIndexes += index.bytes
        try writeData(out.bytes)
        chunkCount += 1
        chunk = MCAPEncoder()
        chunkStart = .max
        chunkEnd = 0
        chunkIndexEntries = [:]
    }

    /// Writes the last chunk, the data end, the summary, the footer and the closing magic.
    func finish() throws {
        guard !finished else { return }
        finished = true
        try flushChunk()
        var dataEnd = MCAPEncoder()
        dataEnd.record(.dataEnd) { $0.u32(dataCRC.value) }
        try write(dataEnd.bytes)

        let summaryStart = offset
        var summary = MCAPEncoder()
        var groups: [(MCAPOpcode, UInt64, UInt64)] = []
        func group(_ opcode: MCAPOpcode, _ bytes: [UInt8]) {
            guard !bytes.isEmpty else { return }
            groups.append((opcode, summaryStart + UInt64(summary.bytes.count), UInt64(bytes.count)))
            summary.raw(bytes)
        }
        group(.schema, schemaRecords)
        group(.channel, channelRecords)
        var statistics = MCAPEncoder()
        statistics.record(.statistics) {
            $0.u64(messageCount); $0.u16(UInt16(schemas.count)); $0.u32(UInt32(channels.count))
            $0.u32(0); $0.u32(0); $0.u32(chunkCount)
            $0.u64(messageCount == 0 ? 0 : firstLogTime); $0.u64(messageCount == 0 ? 0 : lastLogTime)
            let counts = messagesPerChannel.keys.sorted()
            $0.u32(UInt32(counts.count * 10))
            for channel in counts { $0.u16(channel); $0.u64(messagesPerChannel[channel] ?? 0) }
        }
        group(.statistics, statistics.bytes)
        group(.chunkIndex, chunkIndexes)
        let summaryOffsetStart = summaryStart + UInt64(summary.bytes.count)
        for (opcode, start, length) in groups {
            summary.record(.summaryOffset) { $0.u8(opcode.rawValue); $0.u64(start); $0.u64(length) }
        }
        var footerFields = MCAPEncoder()
        footerFields.u8(MCAPOpcode.footer.rawValue)
        footerFields.u64(20)
        footerFields.u64(summaryStart)
        footerFields.u64(summaryOffsetStart)
        var crc = CRC32()
        crc.update(summary.bytes)
        crc.update(footerFields.bytes)
        var tail = summary
        tail.raw(footerFields.bytes)
        tail.u32(crc.value)
        tail.raw(mcapMagic)
        try write(tail.bytes)
        try file.close()
    }

    /// Closes the file without a summary (for errors; the file stays readable up to its last chunk).
    func abandon() {
        guard !finished else { return }
        finished = true
        try? file.close()
    }

    private func writeData(_ bytes: [UInt8]) throws {
        dataCRC.update(bytes)
        try write(bytes)
    }

    private func write(_ bytes: [UInt8]) throws {
        try file.write(contentsOf: bytes)
        offset += UInt64(bytes.count)
    }
}
