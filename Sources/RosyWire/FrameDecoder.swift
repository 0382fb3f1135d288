import NIOCore

/// Where a frame decoder is: between frames, or waiting for the rest of a frame
/// whose size it already knows to be at least `totalBytes`.
enum FrameDecoderState: Sendable, Hashable {
    case waitingForFrame
    case waitingForRestOfFrame(totalBytes: Int)
}

/// The default largest frame a decoder accepts: 256 MiB.
public let defaultMaximumMessageSize = 256 * 1024 * 1024

/// Decodes what clients send to a node's server: topic messages and service requests.
///
/// Use it in a pipeline (`ByteToMessageHandler(InboundFrameDecoder())`) or on its own,
/// one step at a time (`NIOSingleStepByteToMessageProcessor`). It throws ``FrameError``
/// for an unknown prefix, a frame over `maximumMessageSize`, invalid UTF-8, or a stream
/// that ends inside a frame; the connection should then be closed.
public struct InboundFrameDecoder: ByteToMessageDecoder, NIOSingleStepByteToMessageDecoder, Sendable {
    public typealias InboundOut = InboundFrame

    /// The largest frame accepted, in bytes.
    public let maximumMessageSize: Int
    private var state = FrameDecoderState.waitingForFrame

    public init(maximumMessageSize: Int = defaultMaximumMessageSize) {
        self.maximumMessageSize = maximumMessageSize
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> InboundFrame? {
        if case .waitingForRestOfFrame(let total) = state, buffer.readableBytes < total { return nil }
        var reader = FrameReader(buffer, maximumMessageSize: maximumMessageSize)
        do {
            let frame = try reader.readInboundFrame()
            buffer.moveReaderIndex(forwardBy: reader.consumed)
            state = .waitingForFrame
            return frame
        } catch {
            switch error {
            case .needMoreData(let total):
                state = .waitingForRestOfFrame(totalBytes: total)
                return nil
            case .failed(let frameError):
                throw frameError
            }
        }
    }

    /// Compacts only once much has been read and little is left: decoded frames hold slices
    /// of the buffer, so moving bytes copies them.
    public func shouldReclaimBytes(buffer: ByteBuffer) -> Bool {
        buffer.readerIndex >= 64 * 1024 && buffer.readableBytes < buffer.readerIndex
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> InboundFrame? {
        if let frame = try decode(buffer: &buffer) { return frame }
        if buffer.readableBytes > 0 { throw FrameError.truncatedFrame(leftoverBytes: buffer.readableBytes) }
        return nil
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try decode(buffer: &buffer) else { return .needMoreData }
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
public struct ServiceResponseDecoder: ByteToMessageDecoder, NIOSingleStepByteToMessageDecoder, Sendable {
    public typealias InboundOut = ServiceResponseFrame

    /// The largest frame accepted, in bytes.
    public let maximumMessageSize: Int
    private var state = FrameDecoderState.waitingForFrame

    public init(maximumMessageSize: Int = defaultMaximumMessageSize) {
        self.maximumMessageSize = maximumMessageSize
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ServiceResponseFrame? {
        if case .waitingForRestOfFrame(let total) = state, buffer.readableBytes < total { return nil }
        var reader = FrameReader(buffer, maximumMessageSize: maximumMessageSize)
        do {
            let frame = try reader.readServiceResponse()
            buffer.moveReaderIndex(forwardBy: reader.consumed)
            state = .waitingForFrame
            return frame
        } catch {
            switch error {
            case .needMoreData(let total):
                state = .waitingForRestOfFrame(totalBytes: total)
                return nil
            case .failed(let frameError):
                throw frameError
            }
        }
    }

    /// Compacts only once much has been read and little is left: decoded frames hold slices
    /// of the buffer, so moving bytes copies them.
    public func shouldReclaimBytes(buffer: ByteBuffer) -> Bool {
        buffer.readerIndex >= 64 * 1024 && buffer.readableBytes < buffer.readerIndex
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ServiceResponseFrame? {
        if let frame = try decode(buffer: &buffer) { return frame }
        if buffer.readableBytes > 0 { throw FrameError.truncatedFrame(leftoverBytes: buffer.readableBytes) }
        return nil
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try decode(buffer: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        guard let frame = try decodeLast(buffer: &buffer, seenEOF: seenEOF) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }
}
