import NIOCore

/// A str or bytes payload that an encoding left out of its buffer: it belongs at `offset`
/// (an index of that buffer) when the whole is written out (``GatheredFrame``).
public struct DeferredPayload: Sendable {
    public enum Bytes: Sendable {
        case string(String)
        case bytes([UInt8])
    }
    /// Where the payload goes: the buffer's writer index when the encoding reached it.
    public var offset: Int
    public var bytes: Bytes

    public init(offset: Int, bytes: Bytes) {
        self.offset = offset
        self.bytes = bytes
    }

    /// The payload's size in bytes.
    public var count: Int {
        switch bytes {
        case .string(let string): string.utf8.count
        case .bytes(let bytes): bytes.count
        }
    }

    /// Calls `body` with the payload's bytes, in place (no copy for a native string).
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch bytes {
        case .string(var string): try string.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
        case .bytes(let bytes): try bytes.withUnsafeBytes(body)
        }
    }
}

/// A frame whose large str and bytes payloads are not copied into its buffer yet: `head`
/// holds every other byte, and each payload is copied in at its place when the frame is put
/// into memory (``put(into:)``: a shared-memory lane) or a buffer (``write(into:)``). A
/// 1 MB string then costs one copy on its way to a lane instead of two (into a frame
/// buffer, then into the lane).
///
/// ```swift
/// let frame = try FrameEncoder.gatherTopicMessage(topic: "image", args: [.string(big)], kwargs: [:], codec: codec)
/// frame.put(into: memory)     // memory.count >= frame.size; the same bytes as writeTopicMessage
/// ```
public struct GatheredFrame: Sendable {
    /// The frame without its deferred payloads, from its reader index.
    public private(set) var head: ByteBuffer
    /// The payloads left out, in order; their offsets are indices of `head`.
    public private(set) var payloads: [DeferredPayload]
    /// The whole frame's size in bytes.
    public let size: Int

    init(head: ByteBuffer, payloads: [DeferredPayload]) {
        self.head = head
        self.payloads = payloads
        self.size = head.readableBytes + payloads.reduce(0) { $0 + $1.count }
    }

    /// Puts the whole frame at the start of `memory`, which holds ``size`` bytes at least.
    public func put(into memory: UnsafeMutableRawBufferPointer) {
        precondition(memory.count >= size, "a gathered frame of \(size) bytes into \(memory.count)")
        guard let target = memory.baseAddress else { return }
        head.withUnsafeReadableBytes { head in
            var from = 0  // in head's readable bytes
            var at = 0  // in memory
            func copyHead(upTo end: Int) {
                guard end > from else { return }
                (target + at).copyMemory(from: head.baseAddress! + from, byteCount: end - from)
                at += end - from
                from = end
            }
            for payload in payloads {
                copyHead(upTo: payload.offset - self.head.readerIndex)
                payload.withUnsafeBytes { bytes in
                    guard bytes.count > 0 else { return }
                    (target + at).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
                    at += bytes.count
                }
            }
            copyHead(upTo: head.count)
        }
    }

    /// Appends the whole frame to `buffer` (the bytes ``FrameEncoder/writeTopicMessage(topic:args:kwargs:codec:into:)-(_,_,Kwargs,_,_)`` writes).
    public func write(into buffer: inout ByteBuffer) {
        _ = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { out in
            put(into: out)
            return size
        }
    }

    /// The whole frame in a buffer of its own.
    public func materialized(allocator: ByteBufferAllocator = ByteBufferAllocator()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: size)
        write(into: &buffer)
        return buffer
    }
}

extension FrameEncoder {
    /// A topic message frame, as ``writeTopicMessage(topic:args:kwargs:codec:into:)-(_,_,Kwargs,_,_)``
    /// writes it, with every str or bytes payload of `threshold` bytes or more left out of its
    /// buffer when the codec can leave it out (``MessageCodec/encode(_:into:deferringPayloadsFrom:to:)``:
    /// pickle can, for payloads of 64 KiB or more, which it writes outside its frames). A
    /// payload left out is kept by reference (a `String` or `[UInt8]` shares its storage).
    /// `capacity`: the bytes `head` is first allocated with (what is not left out).
    public static func gatherTopicMessage(
        topic: String, args: [Value], kwargs: Kwargs, codec: any MessageCodec,
        deferringPayloadsFrom threshold: Int = 64 * 1024, capacity: Int = 256,
        allocator: ByteBufferAllocator = ByteBufferAllocator()
    ) throws -> GatheredFrame {
        try validate(name: topic, args: args, kwargs: kwargs)
        var head = allocator.buffer(capacity: max(capacity, 64))
        var payloads: [DeferredPayload] = []
        func item(_ value: Value) throws {
            let lengthIndex = head.writerIndex
            head.writeInteger(UInt32(0), endianness: .little)
            let before = payloads.count
            try codec.encode(value, into: &head, deferringPayloadsFrom: threshold, to: &payloads)
            let length = head.writerIndex - lengthIndex - 4 + payloads[before...].reduce(0) { $0 + $1.count }
            guard length <= Int(UInt32.max) else { throw FrameError.dataItemTooLarge(bytes: length) }
            head.setInteger(UInt32(length), at: lengthIndex, endianness: .little)
        }
        head.writeInteger(FramePrefix.topicMessage)
        writeShortString(topic, into: &head)
        head.writeInteger(UInt8(truncatingIfNeeded: args.count))
        for arg in args { try item(arg) }
        head.writeInteger(UInt8(truncatingIfNeeded: kwargs.count))
        for (key, value) in kwargs {
            writeShortString(key, into: &head)
            try item(value)
        }
        return GatheredFrame(head: head, payloads: payloads)
    }
}
