import NIOCore

/// A frame decoder that can tell how many bytes the frame it is reading needs.
public protocol SizedFrameDecoder: NIOSingleStepByteToMessageDecoder {
    /// How many bytes, from its start, the frame being read needs at least; `nil` between frames.
    var awaitedBytes: Int? { get }
}

/// Turns the reads of one connection into frames, copying each byte at most once.
///
/// Frames that lie whole in one read are decoded from that read's buffer (their data items
/// are slices of it, no copy). A frame that spans reads is gathered in a buffer of its own,
/// sized for the whole frame as soon as its header tells how large it is: a 1 MB message
/// that arrives in twenty reads is copied once, not once per growth of a shared buffer, and
/// the reads' buffers go back to the channel's pool instead of being held by a partial frame.
/// The buffers of large frames (up to 4 MiB) are used again once their receivers let go of
/// them (up to ``spareLimit`` per assembler, which it holds until it goes away).
///
/// A header is a claim, not bytes: memory is reserved up front for at most
/// ``upfrontLimit`` bytes of a frame (4 MiB); a larger frame's buffer grows as its bytes
/// arrive, at most doubling what arrived. A peer that claims 60 MiB and sends ten bytes holds
/// 4 MiB, and one that claims more than the decoder's `maximumMessageSize` is refused at once.
///
/// ```swift
/// var assembler = FrameAssembler(InboundFrameDecoder(maximumMessageSize: limit))
/// try assembler.process(bytesRead) { frame in handle(frame) }
/// try assembler.finish()  // at end of stream: throws if a frame was cut off
/// ```
///
/// Errors are the decoder's (``FrameError``); after one the connection should be closed.
public struct FrameAssembler<Decoder: SizedFrameDecoder> {
    private var decoder: Decoder
    /// The start of a frame that spans reads, in a buffer of its own (read index 0).
    private var partial: ByteBuffer?
    private let allocator: ByteBufferAllocator
    /// Buffers of large frames already handed out, to gather later frames in once their
    /// receivers are done with them: fresh memory costs a page fault every 4 KiB (a quarter
    /// of the receiver's time for 1 MB messages). At most ``spareLimit`` are kept.
    private var spares: [ByteBuffer] = []

    /// How many buffers of large frames a connection keeps for reuse (and, at rest, holds).
    static var spareLimit: Int { 4 }
    /// Frames from this size on are gathered in reused buffers.
    static var reuseThreshold: Int { 64 * 1024 }
    /// Buffers larger than this are not kept: one huge message must not stay resident.
    static var reuseCeiling: Int { 4 * 1024 * 1024 }

    /// The most memory reserved for a frame before its bytes arrive.
    static var upfrontLimit: Int { 4 * 1024 * 1024 }

    /// Room left after the awaited bytes of a gathered frame: the few fields after a large
    /// data item (a keyword count, a name, a length) then fit without growing the buffer.
    static var slack: Int { 512 }

    public init(_ decoder: Decoder, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.decoder = decoder
        self.allocator = allocator
    }

    /// Changes the decoder's settings (between frames), e.g.
    /// `assembler.updateDecoder { $0.acceptsSharedMemoryReferences = true }`.
    public mutating func updateDecoder(_ change: (inout Decoder) -> Void) {
        change(&decoder)
    }

    /// Bytes held of a frame that is not complete yet.
    public var bufferedBytes: Int { partial?.readableBytes ?? 0 }

    /// Memory reserved for the frame being gathered (its buffer's capacity; 0 between frames).
    public var reservedBytes: Int { partial?.capacity ?? 0 }

    /// Bytes the frame being gathered still needs at least (0 between frames).
    public var missingBytes: Int {
        guard let partial, let awaited = decoder.awaitedBytes else { return 0 }
        return max(awaited - partial.readableBytes, 0)
    }

    /// Decodes every frame that `input` completes, in order, and keeps the start of an
    /// incomplete last one.
    public mutating func process(_ input: ByteBuffer, _ receive: (Decoder.InboundOut) throws -> Void) throws {
        var input = input
        if var gathered = partial {
            partial = nil
            guard let frame = try complete(&gathered, from: &input) else {
                partial = gathered
                return
            }
            if gathered.readableBytes == 0 { keepForReuse(gathered) }
            try receive(frame)
            if gathered.readableBytes > 0 {
                // Not reached: a frame ends exactly where its awaited bytes end. Carry on from the rest.
                gathered.writeBuffer(&input)
                input = gathered
            }
        }
        while let frame = try decoder.decode(buffer: &input) {
            try receive(frame)
        }
        if input.readableBytes > 0 {
            partial = keep(&input)
        }
    }

    /// The end of the stream: throws ``FrameError/truncatedFrame(leftoverBytes:)`` when it
    /// cuts a frame off.
    public mutating func finish() throws {
        let leftover = bufferedBytes
        partial = nil
        if leftover > 0 { throw FrameError.truncatedFrame(leftoverBytes: leftover) }
    }

    /// Moves bytes from `input` into `gathered`, no more than the frame needs, until the
    /// frame is complete (returned) or `input` is used up (nil).
    private mutating func complete(_ gathered: inout ByteBuffer, from input: inout ByteBuffer) throws -> Decoder.InboundOut? {
        while true {
            let awaited = max(decoder.awaitedBytes ?? 0, gathered.readableBytes + 1)
            let missing = awaited - gathered.readableBytes
            guard input.readableBytes >= missing else {
                reserve(&gathered, total: gathered.readableBytes + input.readableBytes)
                gathered.writeBuffer(&input)
                return nil
            }
            reserve(&gathered, total: awaited)
            var piece = input.readSlice(length: missing) ?? ByteBuffer()
            gathered.writeBuffer(&piece)
            if let frame = try decoder.decode(buffer: &gathered) { return frame }
        }
    }

    /// Makes room for `total` bytes in `gathered` (which is ours alone, read index 0); when
    /// it grows, it grows to the awaited size (or twice its size, when that is less), so a
    /// frame is moved at most a few times and memory follows the bytes that arrived.
    private func reserve(_ gathered: inout ByteBuffer, total: Int) {
        guard gathered.capacity < total else { return }
        let whole = (decoder.awaitedBytes ?? 0) + Self.slack
        gathered.reserveCapacity(max(total + Self.slack, min(whole, max(gathered.capacity * 2, Self.upfrontLimit))))
    }

    /// The rest of a read, an incomplete frame, copied into a buffer sized for the whole frame
    /// as far as it is known (up to ``upfrontLimit`` before its bytes are there).
    private mutating func keep(_ input: inout ByteBuffer) -> ByteBuffer {
        let capacity = max(min((decoder.awaitedBytes ?? 0) + Self.slack, Self.upfrontLimit), input.readableBytes + Self.slack)
        var gathered = reusedBuffer(capacity: capacity) ?? allocator.buffer(capacity: capacity)
        gathered.writeBuffer(&input)
        return gathered
    }

    /// A spare buffer of at least `capacity` bytes that nobody uses any more, emptied.
    private mutating func reusedBuffer(capacity: Int) -> ByteBuffer? {
        guard capacity >= Self.reuseThreshold else { return nil }
        for index in spares.indices where spares[index].capacity >= capacity {
            if spares[index].modifyIfUniquelyOwned({ $0.clear() }) != nil {
                return spares.remove(at: index)
            }
        }
        return nil
    }

    /// Keeps the buffer of a large frame just handed out, if there is room among the spares.
    /// When every spare is still in use the new one is let go: the older ones are freed first.
    private mutating func keepForReuse(_ gathered: ByteBuffer) {
        guard gathered.capacity >= Self.reuseThreshold, gathered.capacity <= Self.reuseCeiling,
              spares.count < Self.spareLimit else { return }
        spares.append(gathered)
    }
}
