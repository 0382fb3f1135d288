import NIOCore

/// Where a frame decoder is: between frames, or waiting for the rest of a frame
/// whose size it already knows to be at least `totalBytes`.
enum FrameDecoderState: Sendable, Hashable {
    case waitingForFrame
    case waitingForRestOfFrame(totalBytes: Int)

    /// How many bytes, from its start, the frame being read needs at least (`nil` between frames).
    var awaitedBytes: Int? {
        if case .waitingForRestOfFrame(let total) = self { return total }
        return nil
    }

    /// One step of either decoder: nothing until the bytes of the frame whose size is known
    /// have arrived; then `read` either returns the frame (consumed from `buffer`), says how
    /// many bytes it needs at least, or fails with the ``FrameError`` to close on.
    mutating func decode<Frame>(
        _ buffer: inout ByteBuffer, maximumMessageSize: Int,
        read: (inout FrameReader) throws(FrameReadStop) -> Frame
    ) throws -> Frame? {
        if case .waitingForRestOfFrame(let total) = self, buffer.readableBytes < total { return nil }
        var reader = FrameReader(buffer, maximumMessageSize: maximumMessageSize)
        do {
            let frame = try read(&reader)
            buffer.moveReaderIndex(forwardBy: reader.consumed)
            self = .waitingForFrame
            return frame
        } catch {
            switch error {
            case .needMoreData(let total):
                self = .waitingForRestOfFrame(totalBytes: total)
                return nil
            case .failed(let frameError):
                throw frameError
            }
        }
    }

    /// For a cumulation buffer that `ByteToMessageHandler` grows read by read: once the frame
    /// being read is known to need more room than the buffer has, moves its bytes into a buffer
    /// sized for the whole frame (or twice the bytes there, up to 4 MiB at least, when that is
    /// less: a header claims, the bytes are what arrived), so that the reads which follow are
    /// appended without the buffer being grown (and copied) again and again.
    func makeRoom(in buffer: inout ByteBuffer) {
        guard let awaited = awaitedBytes, awaited > buffer.capacity - buffer.readerIndex else { return }
        let wanted = min(awaited, max(2 * buffer.readableBytes, 4 * 1024 * 1024))
        guard wanted > buffer.capacity - buffer.readerIndex else { return }
        var room = ByteBufferAllocator().buffer(capacity: wanted + 512)
        room.writeBuffer(&buffer)
        buffer = room
    }

    /// Compacts only once much has been read and little is left: decoded frames hold slices
    /// of the buffer, so moving bytes copies them.
    static func shouldReclaimBytes(_ buffer: ByteBuffer) -> Bool {
        buffer.readerIndex >= 64 * 1024 && buffer.readableBytes < buffer.readerIndex
    }
}

/// The default largest frame a decoder accepts: 64 MiB (`NodeOptions.maxFrameSize`).
public let defaultMaximumMessageSize = 64 * 1024 * 1024

/// Decodes what clients send to a node's server: topic messages and service requests.
///
/// Use it in a pipeline (`ByteToMessageHandler(InboundFrameDecoder())`) or on its own,
/// read by read (`FrameAssembler(InboundFrameDecoder())`, which copies least). It throws ``FrameError``
/// for an unknown prefix, a frame over `maximumMessageSize`, invalid UTF-8, or a stream
/// that ends inside a frame; the connection should then be closed.
public struct InboundFrameDecoder: ByteToMessageDecoder, NIOSingleStepByteToMessageDecoder, SizedFrameDecoder, Sendable {
    public typealias InboundOut = InboundFrame

    /// The largest frame accepted, in bytes.
    public let maximumMessageSize: Int
    /// Whether `m` frames (``SharedMemoryReference``) are read; off, an `m` is an unknown
    /// prefix. On only once the server has mapped the client's lane.
    public var acceptsSharedMemoryReferences = false
    private var state = FrameDecoderState.waitingForFrame

    public var awaitedBytes: Int? { state.awaitedBytes }

    public init(maximumMessageSize: Int = defaultMaximumMessageSize) {
        self.maximumMessageSize = maximumMessageSize
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> InboundFrame? {
        let acceptsReferences = acceptsSharedMemoryReferences
        return try state.decode(&buffer, maximumMessageSize: maximumMessageSize) { reader throws(FrameReadStop) in
            try reader.readInboundFrame(acceptsReferences: acceptsReferences)
        }
    }

    public func shouldReclaimBytes(buffer: ByteBuffer) -> Bool { FrameDecoderState.shouldReclaimBytes(buffer) }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> InboundFrame? {
        if let frame = try decode(buffer: &buffer) { return frame }
        if buffer.readableBytes > 0 { throw FrameError.truncatedFrame(leftoverBytes: buffer.readableBytes) }
        return nil
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try decode(buffer: &buffer) else {
            state.makeRoom(in: &buffer)
            return .needMoreData
        }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        guard let frame = try decodeLast(buffer: &buffer, seenEOF: seenEOF) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }
}

/// Decodes what a node's server sends back to a client: service responses.
/// Errors as ``InboundFrameDecoder``.
public struct ServiceResponseDecoder: ByteToMessageDecoder, NIOSingleStepByteToMessageDecoder, SizedFrameDecoder, Sendable {
    public typealias InboundOut = ServiceResponseFrame

    /// The largest frame accepted, in bytes.
    public let maximumMessageSize: Int
    private var state = FrameDecoderState.waitingForFrame

    public var awaitedBytes: Int? { state.awaitedBytes }

    public init(maximumMessageSize: Int = defaultMaximumMessageSize) {
        self.maximumMessageSize = maximumMessageSize
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ServiceResponseFrame? {
        try state.decode(&buffer, maximumMessageSize: maximumMessageSize) { reader throws(FrameReadStop) in
            try reader.readServiceResponse()
        }
    }

    public func shouldReclaimBytes(buffer: ByteBuffer) -> Bool { FrameDecoderState.shouldReclaimBytes(buffer) }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ServiceResponseFrame? {
        if let frame = try decode(buffer: &buffer) { return frame }
        if buffer.readableBytes > 0 { throw FrameError.truncatedFrame(leftoverBytes: buffer.readableBytes) }
        return nil
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try decode(buffer: &buffer) else {
            state.makeRoom(in: &buffer)
            return .needMoreData
        }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        guard let frame = try decodeLast(buffer: &buffer, seenEOF: seenEOF) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }
}

/// A topic message frame in memory that no `ByteBuffer` holds (a shared-memory lane):
/// its topic and where each data item lies, read without touching the data. The items are
/// decoded later, from the same memory (``decode(from:codec:)``), so the frame is copied
/// once: by the codec, into the values.
///
/// ```swift
/// if let places = TopicMessagePlaces(reading: frame, maximumMessageSize: limit) {
///     let (args, kwargs) = try places.decode(from: frame, codec: codec)
/// }
/// ```
public struct TopicMessagePlaces: Sendable {
    public var topic: String
    /// Where each positional data item lies in the frame.
    public var args: [Range<Int>]
    /// Each keyword argument's name, and where its data item lies.
    public var kwargs: [(name: String, place: Range<Int>)]
    /// The frame's size in bytes.
    public var wireSize: Int

    /// Reads `frame` as one whole topic message. Nil when it holds anything else: another
    /// kind of frame, more or less than one whole frame, a frame over `maximumMessageSize`,
    /// a topic that is not UTF-8 (the decoder, reading a copy, then names the problem).
    public init?(reading frame: UnsafeRawBufferPointer, maximumMessageSize: Int) {
        var reader = FrameReader(count: frame.count, maximumMessageSize: maximumMessageSize)
        guard let places = try? reader.readTopicMessagePlaces(frame), reader.consumed == frame.count else { return nil }
        (topic, args, kwargs, wireSize) = (places.topic, places.args, places.kwargs, frame.count)
    }

    /// Decodes the data items with `codec` from `frame`, the bytes that were read (they may
    /// be reused once this returns). Throws ``UndecodableTopicMessage`` for an item the codec
    /// cannot decode, or when `frame` is shorter than the message read.
    public func decode(from frame: UnsafeRawBufferPointer, codec: some MessageCodec) throws -> (args: [Value], kwargs: Kwargs) {
        func decode(_ place: Range<Int>) throws -> Value {
            do {
                guard place.upperBound <= frame.count else { throw CodecError(codec: codec.name, "the frame is shorter than its data items") }
                return try codec.decode(contentsOf: UnsafeRawBufferPointer(rebasing: frame[place]))
            } catch {
                throw UndecodableTopicMessage(topic: topic, error: error)
            }
        }
        var args: [Value] = []
        args.reserveCapacity(self.args.count)
        for place in self.args { args.append(try decode(place)) }
        var kwargs: Kwargs = [:]
        if !self.kwargs.isEmpty {
            kwargs.reserveCapacity(self.kwargs.count)
            for (name, place) in self.kwargs { kwargs[name] = try decode(place) }
        }
        return (args, kwargs)
    }
}

/// A topic message decoded straight from the memory that holds its frame
/// (``InboundFrameDecoder/decodeTopicMessage(_:maximumMessageSize:codec:)``).
public struct DecodedTopicMessage: Sendable {
    public var topic: String
    public var args: [Value]
    public var kwargs: Kwargs
    /// The frame's size in bytes.
    public var wireSize: Int
}

extension InboundFrameDecoder {
    /// Reads `frame` as one whole topic message and decodes its data items with `codec`
    /// where they lie (``TopicMessagePlaces``, in one step).
    ///
    /// ```swift
    /// if let message = try InboundFrameDecoder.decodeTopicMessage(bytes, maximumMessageSize: limit, codec: codec) {
    ///     deliver(message)
    /// }
    /// ```
    ///
    /// Returns nil when `frame` is not exactly one whole topic message (see
    /// ``TopicMessagePlaces/init(reading:maximumMessageSize:)``); throws
    /// ``UndecodableTopicMessage`` for a data item the codec cannot decode.
    public static func decodeTopicMessage(
        _ frame: UnsafeRawBufferPointer, maximumMessageSize: Int, codec: some MessageCodec
    ) throws -> DecodedTopicMessage? {
        guard let places = TopicMessagePlaces(reading: frame, maximumMessageSize: maximumMessageSize) else { return nil }
        let (args, kwargs) = try places.decode(from: frame, codec: codec)
        return DecodedTopicMessage(topic: places.topic, args: args, kwargs: kwargs, wireSize: frame.count)
    }
}

/// A topic message whose data the codec could not decode.
public struct UndecodableTopicMessage: Error, CustomStringConvertible {
    public var topic: String
    public var error: any Error

    public var description: String { "a message on topic=\(topic) could not be decoded: \(error)" }
}
