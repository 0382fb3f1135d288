import NIOCore

/// Why ``FrameReader`` stopped: the frame is not complete yet, or it is bad.
enum FrameReadStop: Error {
    /// The frame needs at least this many bytes from its start.
    case needMoreData(totalBytes: Int)
    case failed(FrameError)
}

/// Reads one frame's fields from a buffer without consuming it, so that a partial frame
/// can be read again once more bytes have arrived. Data items become slices (no copy).
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

    /// Bytes read so far, from the frame's start.
    var consumed: Int { index - start }

    /// Makes sure `count` more bytes are there (and allowed).
    private func require(_ count: Int) throws(FrameReadStop) {
        let total = index - start + count
        guard total <= limit else { throw .failed(.messageTooLarge(size: total, limit: limit)) }
        guard index + count <= end else { throw .needMoreData(totalBytes: total) }
    }

    mutating func readU8() throws(FrameReadStop) -> UInt8 {
        try require(1)
        defer { index += 1 }
        return buffer.getInteger(at: index, as: UInt8.self) ?? 0
    }

    mutating func readU16() throws(FrameReadStop) -> UInt16 {
        try require(2)
        defer { index += 2 }
        return buffer.getInteger(at: index, endianness: .little, as: UInt16.self) ?? 0
    }

    mutating func readU32() throws(FrameReadStop) -> UInt32 {
        try require(4)
        defer { index += 4 }
        return buffer.getInteger(at: index, endianness: .little, as: UInt32.self) ?? 0
    }

    /// UTF-8 text of `length` bytes; invalid UTF-8 is an error naming `field`.
    mutating func readString(length: Int, field: String) throws(FrameReadStop) -> String {
        try require(length)
        let decoded = buffer.withUnsafeReadableBytes { raw -> String? in
            let start = index - buffer.readerIndex
            guard start >= 0, start + length <= raw.count else { return nil }
            return UTF8Text.decode(UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)]))
        }
        guard let string = decoded else { throw .failed(.invalidUTF8(field: field)) }
        index += length
        return string
    }

    /// A short string: u8 length, then UTF-8.
    mutating func readShortString(field: String) throws(FrameReadStop) -> String {
        let length = Int(try readU8())
        return try readString(length: length, field: field)
    }

    /// A data item: u32 length, then that many bytes (returned as a slice).
    mutating func readDataItem() throws(FrameReadStop) -> ByteBuffer {
        let length = Int(try readU32())
        try require(length)
        guard let slice = buffer.getSlice(at: index, length: length) else {
            throw .needMoreData(totalBytes: index - start + length)
        }
        index += length
        return slice
    }

    /// u8 count and data items, then u8 count and (short string, data item) pairs.
    mutating func readArguments() throws(FrameReadStop) -> RawArguments {
        let argCount = Int(try readU8())
        var args: [ByteBuffer] = []
        if argCount > 0 {
            args.reserveCapacity(argCount)
            for _ in 0..<argCount { args.append(try readDataItem()) }
        }
        let kwargCount = Int(try readU8())
        var kwargs: [RawKeywordArgument] = []
        if kwargCount > 0 {
            kwargs.reserveCapacity(kwargCount)
            for _ in 0..<kwargCount {
                let name = try readShortString(field: "keyword argument name")
                kwargs.append(RawKeywordArgument(name: name, data: try readDataItem()))
            }
        }
        return RawArguments(args: args, kwargs: kwargs)
    }

    /// A whole client-to-server frame.
    mutating func readInboundFrame() throws(FrameReadStop) -> InboundFrame {
        let prefix = try readU8()
        switch prefix {
        case FramePrefix.topicMessage:
            let topic = try readShortString(field: "topic")
            return .topicMessage(TopicMessageFrame(topic: topic, arguments: try readArguments()))
        case FramePrefix.serviceRequest:
            let id = try readU16()
            let service = try readShortString(field: "service name")
            return .serviceRequest(ServiceRequestFrame(id: id, service: service, arguments: try readArguments()))
        default:
            throw .failed(.unknownPrefix(prefix))
        }
    }

    /// A whole server-to-client frame.
    mutating func readServiceResponse() throws(FrameReadStop) -> ServiceResponseFrame {
        let id = try readU16()
        let status = try readU8()
        switch status {
        case ResponseStatus.success:
            return ServiceResponseFrame(id: id, outcome: .success(try readDataItem()))
        case ResponseStatus.failure:
            let length = Int(try readU16())
            return ServiceResponseFrame(id: id, outcome: .failure(try readString(length: length, field: "error text")))
        default:
            throw .failed(.unknownResponseStatus(status))
        }
    }
}
