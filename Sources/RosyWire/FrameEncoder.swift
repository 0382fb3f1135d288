import NIOCore

/// Writes rosy frames. Arguments are encoded once; the resulting buffer can be written to
/// every peer as is (a `ByteBuffer` shares its storage, so that costs no copy).
///
/// ```swift
/// var buffer = ByteBufferAllocator().buffer(capacity: 64)
/// try FrameEncoder.writeTopicMessage(topic: "some-topic", args: ["hello"], kwargs: ["name": "world"],
///                                    codec: codec, into: &buffer)
/// ```
///
/// Every limit of the wire (names up to 255 bytes, up to 255 args and 255 kwargs) is
/// checked before the first byte is written, so a failed call leaves `buffer` unchanged.
public enum FrameEncoder {
    /// Appends a topic message frame (`t`, topic, args, kwargs).
    @inlinable
    public static func writeTopicMessage<KeywordArguments: Collection>(
        topic: String, args: [Value], kwargs: KeywordArguments, codec: some MessageCodec, into buffer: inout ByteBuffer
    ) throws where KeywordArguments.Element == (key: String, value: Value) {
        try validate(name: topic, args: args, kwargs: kwargs)
        let start = buffer.writerIndex
        do {
            buffer.writeInteger(FramePrefix.topicMessage)
            writeShortString(topic, into: &buffer)
            try writeArguments(args: args, kwargs: kwargs, codec: codec, into: &buffer)
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
    }

    /// Appends a topic message frame, as the generic form does, for a node's own codec held
    /// as an existential. Not generic, so nothing is looked up at run time per message, and
    /// the header goes in with one write (each `ByteBuffer` write costs a dynamic
    /// exclusivity check).
    public static func writeTopicMessage(
        topic: String, args: [Value], kwargs: Kwargs, codec: any MessageCodec, into buffer: inout ByteBuffer
    ) throws {
        try validate(name: topic, args: args, kwargs: kwargs)
        if writeWholeFrame(prefix: FramePrefix.topicMessage, name: topic, args: args, kwargs: kwargs, codec: codec, into: &buffer) {
            return
        }
        let start = buffer.writerIndex
        do {
            writeHeader(prefix: FramePrefix.topicMessage, name: topic, argCount: args.count, into: &buffer)
            try writeItems(args: args, kwargs: kwargs, anyCodec: codec, into: &buffer)
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
    }

    /// Appends a service request frame, as the generic form does, for a node's own codec
    /// held as an existential (not generic: nothing is looked up at run time per call; the
    /// header goes in with one write).
    public static func writeServiceRequest(
        id: UInt16, service: String, args: [Value], kwargs: Kwargs, codec: any MessageCodec,
        into buffer: inout ByteBuffer
    ) throws {
        try validate(name: service, args: args, kwargs: kwargs)
        if writeWholeFrame(prefix: FramePrefix.serviceRequest, id: id, name: service, args: args, kwargs: kwargs, codec: codec, into: &buffer) {
            return
        }
        let start = buffer.writerIndex
        do {
            writeHeader(prefix: FramePrefix.serviceRequest, id: id, name: service, argCount: args.count, into: &buffer)
            try writeItems(args: args, kwargs: kwargs, anyCodec: codec, into: &buffer)
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
    }

    /// Checks a frame's name and argument counts against the wire's limits.
    public static func validate(name: String, args: [Value], kwargs: Kwargs) throws {
        try validateName(name)
        guard args.count <= 255 else { throw FrameError.tooManyArguments(count: args.count) }
        guard kwargs.count <= 255 else { throw FrameError.tooManyArguments(count: kwargs.count) }
        for key in kwargs.keys { try validateName(key) }
    }

    /// Prefix, the request id (service requests only), short-string name and the u8
    /// argument count, in one write.
    private static func writeHeader(prefix: UInt8, id: UInt16? = nil, name: String, argCount: Int, into buffer: inout ByteBuffer) {
        var name = name
        name.withUTF8 { utf8 in
            _ = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: utf8.count + 5) { out in
                putHeader(prefix: prefix, id: id, name: utf8, argCount: argCount, into: out)
            }
        }
    }

    /// Puts the header at the start of `out` (which holds `name.count + 5` bytes at least);
    /// returns its size.
    @inline(__always)
    private static func putHeader(
        prefix: UInt8, id: UInt16?, name: UnsafeBufferPointer<UInt8>, argCount: Int, into out: UnsafeMutableRawBufferPointer
    ) -> Int {
        out[0] = prefix
        var at = 1
        if let id {
            out.storeBytes(of: id.littleEndian, toByteOffset: 1, as: UInt16.self)
            at = 3
        }
        at = putShortString(name, into: out, at: at)
        out[at] = UInt8(truncatingIfNeeded: argCount)
        return at + 1
    }

    /// Puts a short string (u8 length, then the bytes) at `at`; returns where the next goes.
    @inline(__always)
    private static func putShortString(_ utf8: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableRawBufferPointer, at: Int) -> Int {
        out[at] = UInt8(truncatingIfNeeded: utf8.count)
        if utf8.count > 0 {
            UnsafeMutableRawBufferPointer(rebasing: out[(at + 1)..<(at + 1 + utf8.count)]).copyMemory(from: UnsafeRawBufferPointer(utf8))
        }
        return at + 1 + utf8.count
    }

    /// A whole frame in one buffer access, when the codec puts every argument straight into
    /// the buffer's free room (``MessageCodec/encode(_:ifItFits:)``) and it fits: a topic
    /// message or a service request of a few small values, the most common kind. False, and
    /// nothing written, otherwise (the caller checked the names and counts).
    private static func writeWholeFrame(
        prefix: UInt8, id: UInt16? = nil, name: String, args: [Value], kwargs: Kwargs, codec: any MessageCodec,
        into buffer: inout ByteBuffer
    ) -> Bool {
        var name = name
        return name.withUTF8 { utf8 in
            let room = utf8.count + 6 + (args.count + kwargs.count) * (4 + smallDataItemRoom)
            let written = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { out in
                var at = putHeader(prefix: prefix, id: id, name: utf8, argCount: args.count, into: out)
                /// A data item (u32 length, encoding) at `at`, leaving a byte for the kwargs count.
                func putItem(_ value: Value) -> Bool {
                    guard at + 5 <= out.count,
                          let count = codec.encode(value, ifItFits: UnsafeMutableRawBufferPointer(rebasing: out[(at + 4)..<(out.count - 1)]))
                    else { return false }
                    out.storeBytes(of: UInt32(truncatingIfNeeded: count).littleEndian, toByteOffset: at, as: UInt32.self)
                    at += 4 + count
                    return true
                }
                for arg in args {
                    guard putItem(arg) else { return 0 }
                }
                out[at] = UInt8(truncatingIfNeeded: kwargs.count)
                at += 1
                for (key, value) in kwargs {
                    var key = key
                    let keyFits = key.withUTF8 { key -> Bool in
                        guard at + 1 + key.count + 5 <= out.count else { return false }
                        at = putShortString(key, into: out, at: at)
                        return true
                    }
                    guard keyFits, putItem(value) else { return 0 }
                }
                return at
            }
            return written > 0
        }
    }

    /// The args (their count is already written), then the kwargs count and the kwargs, with
    /// an existential codec (not generic: see above).
    private static func writeItems(args: [Value], kwargs: Kwargs, anyCodec codec: any MessageCodec, into buffer: inout ByteBuffer) throws {
        for arg in args { try writeDataItem(arg, anyCodec: codec, into: &buffer) }
        buffer.writeInteger(UInt8(truncatingIfNeeded: kwargs.count))
        for (key, value) in kwargs {
            writeShortString(key, into: &buffer)
            try writeDataItem(value, anyCodec: codec, into: &buffer)
        }
    }

    /// One data item with an existential codec (not generic: see above).
    private static func writeDataItem(_ value: Value, anyCodec codec: any MessageCodec, into buffer: inout ByteBuffer) throws {
        if writeSmallDataItem(value, codec: codec, into: &buffer) { return }
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(UInt32(0), endianness: .little)
        try codec.encode(value, into: &buffer)
        let length = buffer.writerIndex - lengthIndex - 4
        guard length <= Int(UInt32.max) else { throw FrameError.dataItemTooLarge(bytes: length) }
        buffer.setInteger(UInt32(length), at: lengthIndex, endianness: .little)
    }

    /// Appends a service request frame (`s`, id, service, args, kwargs).
    @inlinable
    public static func writeServiceRequest<KeywordArguments: Collection>(
        id: UInt16, service: String, args: [Value], kwargs: KeywordArguments, codec: some MessageCodec,
        into buffer: inout ByteBuffer
    ) throws where KeywordArguments.Element == (key: String, value: Value) {
        try validate(name: service, args: args, kwargs: kwargs)
        let start = buffer.writerIndex
        do {
            buffer.writeInteger(FramePrefix.serviceRequest)
            buffer.writeInteger(id, endianness: .little)
            writeShortString(service, into: &buffer)
            try writeArguments(args: args, kwargs: kwargs, codec: codec, into: &buffer)
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
    }

    /// Appends a successful service response: id, `0x00`, the result's data item.
    public static func writeServiceResult(
        id: UInt16, result: Value, codec: some MessageCodec, into buffer: inout ByteBuffer
    ) throws {
        let start = buffer.writerIndex
        do {
            buffer.writeMultipleIntegers(id, ResponseStatus.success, endianness: .little)
            try writeDataItem(result, codec: codec, into: &buffer)
        } catch {
            buffer.moveWriterIndex(to: start)
            throw error
        }
    }

    /// Appends an error service response: id, `0xEE`, u16 length and the UTF-8 text
    /// (cut at a character boundary if longer than 65,535 bytes).
    public static func writeServiceError(id: UInt16, message: String, into buffer: inout ByteBuffer) {
        var utf8 = Array(message.utf8)
        if utf8.count > Int(UInt16.max) {
            var cut = Int(UInt16.max)
            // Step back over continuation bytes (10xxxxxx) to a character start.
            while cut > 0 && utf8[cut] & 0xC0 == 0x80 { cut -= 1 }
            utf8.removeSubrange(cut...)
        }
        buffer.writeInteger(id, endianness: .little)
        buffer.writeInteger(ResponseStatus.failure)
        buffer.writeInteger(UInt16(utf8.count), endianness: .little)
        buffer.writeBytes(utf8)
    }

    /// Appends an `m` frame: where a whole frame lies in the connection's shared-memory lane.
    public static func writeSharedMemoryReference(_ reference: SharedMemoryReference, into buffer: inout ByteBuffer) {
        buffer.writeMultipleIntegers(
            FramePrefix.sharedMemoryReference, reference.position, reference.length, endianness: .little)
    }

    /// Appends one data item: u32 length, then the codec's encoding of `value`.
    public static func writeDataItem(_ value: Value, codec: some MessageCodec, into buffer: inout ByteBuffer) throws {
        if writeSmallDataItem(value, codec: codec, into: &buffer) { return }
        let lengthIndex = buffer.writerIndex
        buffer.writeInteger(UInt32(0), endianness: .little)
        try codec.encode(value, into: &buffer)
        let length = buffer.writerIndex - lengthIndex - 4
        guard length <= Int(UInt32.max) else { throw FrameError.dataItemTooLarge(bytes: length) }
        buffer.setInteger(UInt32(length), at: lengthIndex, endianness: .little)
    }

    /// Room a data item's direct encoding is offered at least (beyond its length): enough
    /// for scalars and short tuples; larger values take the buffer's free room or the
    /// general path.
    @usableFromInline static let smallDataItemRoom = 64

    /// A data item whose codec puts it straight into the buffer's free room, with its u32
    /// length, in one buffer access; false (nothing written) if the codec declines.
    @inlinable
    static func writeSmallDataItem(_ value: Value, codec: some MessageCodec, into buffer: inout ByteBuffer) -> Bool {
        let written = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 4 + smallDataItemRoom) { out in
            guard let count = codec.encode(value, ifItFits: UnsafeMutableRawBufferPointer(rebasing: out[4...])),
                  count <= Int(UInt32.max)
            else { return 0 }
            out.storeBytes(of: UInt32(count).littleEndian, as: UInt32.self)
            return 4 + count
        }
        return written > 0
    }

    /// Checks a frame's name and argument counts against the wire's limits.
    @inlinable
    public static func validate<KeywordArguments: Collection>(name: String, args: [Value], kwargs: KeywordArguments) throws
    where KeywordArguments.Element == (key: String, value: Value) {
        try validateName(name)
        guard args.count <= 255 else { throw FrameError.tooManyArguments(count: args.count) }
        guard kwargs.count <= 255 else { throw FrameError.tooManyArguments(count: kwargs.count) }
        for (key, _) in kwargs { try validateName(key) }
    }

    /// Checks that `name` fits a short string (at most 255 bytes of UTF-8).
    public static func validateName(_ name: String) throws {
        let count = name.utf8.count
        guard count <= 255 else { throw FrameError.nameTooLong(name, bytes: count) }
    }

    /// A short string: u8 length, then the UTF-8 bytes (the caller checked the length).
    @usableFromInline
    static func writeShortString(_ string: String, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(truncatingIfNeeded: string.utf8.count))
        buffer.writeString(string)
    }

    @inlinable
    static func writeArguments<KeywordArguments: Collection>(
        args: [Value], kwargs: KeywordArguments, codec: some MessageCodec, into buffer: inout ByteBuffer
    ) throws where KeywordArguments.Element == (key: String, value: Value) {
        buffer.writeInteger(UInt8(truncatingIfNeeded: args.count))
        for arg in args { try writeDataItem(arg, codec: codec, into: &buffer) }
        buffer.writeInteger(UInt8(truncatingIfNeeded: kwargs.count))
        for (key, value) in kwargs {
            writeShortString(key, into: &buffer)
            try writeDataItem(value, codec: codec, into: &buffer)
        }
    }
}
