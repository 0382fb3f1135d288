import NIOCore

/// Why ``FrameReader`` stopped: the frame is not complete yet, or it is bad.
enum FrameReadStop: Error {
    /// The frame needs at least this many bytes from its start.
    case needMoreData(totalBytes: Int)
    case failed(FrameError)
}

/// Reads one frame's fields from a buffer without consuming it, so that a partial frame
/// can be read again once more bytes have arrived. Data items become slices (no copy).
///
/// A whole frame is read under one `withUnsafeReadableBytes`: every `ByteBuffer` accessor
/// costs a dynamic exclusivity check, and a small frame has half a dozen fields.
struct FrameReader {
    private let buffer: ByteBuffer
    private let start: Int
    private let end: Int
    private let limit: Int
    private(set) var index: Int

    init(_ buffer: ByteBuffer, maximumMessageSize: Int) {
        self.buffer = buffer
        self.start = buffer.readerIndex
        self.end = buffer.writerIndex
        self.limit = maximumMessageSize
        self.index = buffer.readerIndex
    }

    /// A reader of `count` bytes of memory that no `ByteBuffer` holds (``readTopicMessagePlaces(_:)``).
    init(count: Int, maximumMessageSize: Int) {
        self.buffer = ByteBuffer()
        self.start = 0
        self.end = count
        self.limit = maximumMessageSize
        self.index = 0
    }

    /// Bytes read so far, from the frame's start.
    var consumed: Int { index - start }

    /// Makes sure `count` more bytes are there (and allowed).
    private func require(_ count: Int) throws(FrameReadStop) {
        let total = index - start + count
        guard total <= limit else { throw .failed(.messageTooLarge(size: total, limit: limit)) }
        guard index + count <= end else { throw .needMoreData(totalBytes: total) }
    }

    // `raw` holds the buffer's readable bytes: `raw[0]` is the byte at `start`.

    private mutating func readU8(_ raw: UnsafeRawBufferPointer) throws(FrameReadStop) -> UInt8 {
        try require(1)
        defer { index += 1 }
        return raw[index - start]
    }

    private mutating func readU16(_ raw: UnsafeRawBufferPointer) throws(FrameReadStop) -> UInt16 {
        try require(2)
        defer { index += 2 }
        return UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: index - start, as: UInt16.self))
    }

    private mutating func readU32(_ raw: UnsafeRawBufferPointer) throws(FrameReadStop) -> UInt32 {
        try require(4)
        defer { index += 4 }
        return UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: index - start, as: UInt32.self))
    }

    private mutating func readU64(_ raw: UnsafeRawBufferPointer) throws(FrameReadStop) -> UInt64 {
        try require(8)
        defer { index += 8 }
        return UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index - start, as: UInt64.self))
    }

    /// UTF-8 text of `length` bytes; invalid UTF-8 is an error naming `field`.
    private mutating func readString(_ raw: UnsafeRawBufferPointer, length: Int, field: String) throws(FrameReadStop) -> String {
        try require(length)
        let offset = index - start
        guard let string = UTF8Text.decode(UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + length)])) else {
            throw .failed(.invalidUTF8(field: field))
        }
        index += length
        return string
    }

    /// A short string: u8 length, then UTF-8.
    private mutating func readShortString(_ raw: UnsafeRawBufferPointer, field: String) throws(FrameReadStop) -> String {
        let length = Int(try readU8(raw))
        return try readString(raw, length: length, field: field)
    }

    /// A data item: u32 length, then that many bytes (returned as a slice).
    private mutating func readDataItem(_ raw: UnsafeRawBufferPointer) throws(FrameReadStop) -> ByteBuffer {
        let place = try readDataItemPlace(raw)
        guard let slice = buffer.getSlice(at: start + place.lowerBound, length: place.count) else {
            throw .needMoreData(totalBytes: place.upperBound)
        }
        return slice
    }

    /// A data item: u32 length, then that many bytes, whose place in `raw` is returned.
    private mutating func readDataItemPlace(_ raw: UnsafeRawBufferPointer) throws(FrameReadStop) -> Range<Int> {
        let length = Int(try readU32(raw))
        try require(length)
        defer { index += length }
        return (index - start)..<(index - start + length)
    }

    /// u8 count and data items, then u8 count and (short string, data item) pairs; `item`
    /// reads each data item, `keyword` pairs it with its name.
    @inline(__always)
    private mutating func readArguments<Item, Keyword>(
        _ raw: UnsafeRawBufferPointer,
        item: (inout FrameReader) throws(FrameReadStop) -> Item,
        keyword: (String, Item) -> Keyword
    ) throws(FrameReadStop) -> (args: [Item], kwargs: [Keyword]) {
        let argCount = Int(try readU8(raw))
        var args: [Item] = []
        if argCount > 0 {
            args.reserveCapacity(argCount)
            for _ in 0..<argCount { args.append(try item(&self)) }
        }
        let kwargCount = Int(try readU8(raw))
        var kwargs: [Keyword] = []
        if kwargCount > 0 {
            kwargs.reserveCapacity(kwargCount)
            for _ in 0..<kwargCount {
                let name = try readShortString(raw, field: "keyword argument name")
                kwargs.append(keyword(name, try item(&self)))
            }
        }
        return (args, kwargs)
    }

    /// The arguments with their data items as slices of the buffer.
    private mutating func readArguments(_ raw: UnsafeRawBufferPointer) throws(FrameReadStop) -> RawArguments {
        let (args, kwargs) = try readArguments(
            raw, item: { (reader: inout FrameReader) throws(FrameReadStop) in try reader.readDataItem(raw) },
            keyword: RawKeywordArgument.init)
        return RawArguments(args: args, kwargs: kwargs)
    }

    /// The topic message at the start of `raw`, with the place in `raw` of each data item;
    /// nil when `raw` starts with another kind of frame.
    mutating func readTopicMessagePlaces(_ raw: UnsafeRawBufferPointer) throws(FrameReadStop)
        -> (topic: String, args: [Range<Int>], kwargs: [(name: String, place: Range<Int>)])? {
        guard try readU8(raw) == FramePrefix.topicMessage else { return nil }
        let topic = try readShortString(raw, field: "topic")
        let (args, kwargs) = try readArguments(
            raw, item: { (reader: inout FrameReader) throws(FrameReadStop) in try reader.readDataItemPlace(raw) },
            keyword: { (name: $0, place: $1) })
        return (topic, args, kwargs)
    }

    /// A whole client-to-server frame; `m` (a shared-memory reference) only when `acceptsReferences`.
    mutating func readInboundFrame(acceptsReferences: Bool = false) throws(FrameReadStop) -> InboundFrame {
        let buffer = self.buffer
        return try buffer.withUnsafeReadableBytes { (raw) throws(FrameReadStop) -> InboundFrame in
            try self.readInboundFrame(raw, acceptsReferences: acceptsReferences)
        }
    }

    private mutating func readInboundFrame(_ raw: UnsafeRawBufferPointer, acceptsReferences: Bool) throws(FrameReadStop) -> InboundFrame {
        let prefix = try readU8(raw)
        switch prefix {
        case FramePrefix.topicMessage:
            let topic = try readShortString(raw, field: "topic")
            return .topicMessage(TopicMessageFrame(topic: topic, arguments: try readArguments(raw)))
        case FramePrefix.serviceRequest:
            let id = try readU16(raw)
            let service = try readShortString(raw, field: "service name")
            return .serviceRequest(ServiceRequestFrame(id: id, service: service, arguments: try readArguments(raw)))
        case FramePrefix.sharedMemoryReference where acceptsReferences:
            let position = try readU64(raw)
            let length = try readU32(raw)
            return .sharedMemoryReference(SharedMemoryReference(position: position, length: length))
        default:
            throw .failed(.unknownPrefix(prefix))
        }
    }

    /// A whole server-to-client frame.
    mutating func readServiceResponse() throws(FrameReadStop) -> ServiceResponseFrame {
        let buffer = self.buffer
        return try buffer.withUnsafeReadableBytes { (raw) throws(FrameReadStop) -> ServiceResponseFrame in
            try self.readServiceResponse(raw)
        }
    }

    private mutating func readServiceResponse(_ raw: UnsafeRawBufferPointer) throws(FrameReadStop) -> ServiceResponseFrame {
        let id = try readU16(raw)
        let status = try readU8(raw)
        switch status {
        case ResponseStatus.success:
            return ServiceResponseFrame(id: id, outcome: .success(try readDataItem(raw)))
        case ResponseStatus.failure:
            let length = Int(try readU16(raw))
            return ServiceResponseFrame(id: id, outcome: .failure(try readString(raw, length: length, field: "error text")))
        default:
            throw .failed(.unknownResponseStatus(status))
        }
    }
}
