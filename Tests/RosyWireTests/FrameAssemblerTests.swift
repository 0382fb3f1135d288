import NIOCore
import NIOEmbedded
import NIOTestUtils
import RosyWire
import XCTest

/// The assembler turns reads into frames whatever the reads' boundaries, and a frame that
/// spans reads is gathered in one buffer sized for it.
final class FrameAssemblerTests: XCTestCase {
    let codec = FrameTestCodec()

    /// A stream of small and large frames (1 MiB + a few bytes among them).
    private func mixedStream() throws -> (stream: ByteBuffer, frames: [InboundFrame]) {
        let big = Value.bytes((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let parts = [
            try topicFrame("small", ["hello", 1]),
            try topicFrame("big", [.int(7), big], ["after": "the big one"]),
            try requestFrame(3, "svc", [2, 2]),
            try topicFrame("big-kw", [], ["payload": big]),
            try topicFrame("", []),
            try topicFrame("big", [big, big]),
            try topicFrame("tail", ["x"]),
        ]
        var stream = ByteBuffer()
        var frames: [InboundFrame] = []
        for part in parts {
            var whole = part
            var decoder = InboundFrameDecoder()
            guard let frame = try decoder.decode(buffer: &whole) else { throw FrameError.truncatedFrame(leftoverBytes: part.readableBytes) }
            frames.append(frame)
            stream.writeImmutableBuffer(part)
        }
        return (stream, frames)
    }

    /// Feeds `stream` in reads of the given sizes (cycled) and collects the frames.
    private func assemble(_ stream: ByteBuffer, readSizes: [Int]) throws -> [InboundFrame] {
        var assembler = FrameAssembler(InboundFrameDecoder())
        var stream = stream
        var frames: [InboundFrame] = []
        var index = 0
        while stream.readableBytes > 0 {
            let size = min(readSizes[index % readSizes.count], stream.readableBytes)
            index += 1
            try assembler.process(stream.readSlice(length: size)!) { frames.append($0) }
        }
        XCTAssertEqual(assembler.bufferedBytes, 0)
        try assembler.finish()
        return frames
    }

    func testFramesComeOutWholeWhateverTheReadSizes() throws {
        let (stream, expected) = try mixedStream()
        for readSizes in [[stream.readableBytes], [1], [7, 3, 1], [4096], [65536], [65535, 17], [1 << 20], [300_000, 5, 900_001]] {
            // Byte by byte a megabyte takes long: only the first kilobytes go one at a time.
            if readSizes == [1] {
                var prefix = stream
                let short = prefix.readSlice(length: 5000)!
                var assembler = FrameAssembler(InboundFrameDecoder())
                var frames: [InboundFrame] = []
                var rest = short
                while let byte = rest.readSlice(length: 1) { try assembler.process(byte) { frames.append($0) } }
                try assembler.process(prefix) { frames.append($0) }
                XCTAssertEqual(frames, expected, "one byte at a time, then the rest")
                continue
            }
            XCTAssertEqual(try assemble(stream, readSizes: readSizes), expected, "reads of \(readSizes)")
        }
    }

    func testRandomReadBoundaries() throws {
        let (stream, expected) = try mixedStream()
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let sizes = (0..<50).map { _ in Int.random(in: 1...200_000, using: &generator) }
            XCTAssertEqual(try assemble(stream, readSizes: sizes), expected, "reads of \(sizes)")
        }
    }

    /// A large frame's data item does not keep the reads' buffers (so the channel can reuse
    /// them): it lies in one buffer of its own, sized for the frame (ByteBuffer rounds up to
    /// a power of two).
    func testALargeFrameIsGatheredInABufferOfItsOwn() throws {
        let payload = Value.bytes(Array(repeating: 0x41, count: 1 << 20))
        var stream = try topicFrame("big", [payload])
        let frameSize = stream.readableBytes
        var assembler = FrameAssembler(InboundFrameDecoder())
        var frames: [InboundFrame] = []
        while let read = stream.readSlice(length: min(65536, stream.readableBytes)), read.readableBytes > 0 {
            try assembler.process(read) { frames.append($0) }
        }
        guard frames.count == 1, case .topicMessage(let message) = frames[0], let item = message.arguments.args.first else {
            return XCTFail("expected one topic message, got \(frames)")
        }
        XCTAssertEqual(item.readableBytes, (1 << 20) + 1)
        XCTAssertNotNil(stream.modifyIfUniquelyOwned { _ in true }, "the reads' buffer is free again")
        XCTAssertLessThanOrEqual(item.storageCapacity, 2 << 20)
        XCTAssertGreaterThanOrEqual(item.storageCapacity, frameSize)
    }

    /// Once a large frame is let go, the next one is gathered in the same memory; while it is
    /// still held, the next one gets memory of its own.
    func testTheBufferOfALargeFrameIsUsedAgainOnceLetGo() throws {
        let frame = try topicFrame("big", [.bytes(Array(repeating: 0x42, count: 500_000))])
        var assembler = FrameAssembler(InboundFrameDecoder())
        func next() throws -> ByteBuffer {
            var stream = frame
            var frames: [InboundFrame] = []
            while let read = stream.readSlice(length: min(50_000, stream.readableBytes)), read.readableBytes > 0 {
                try assembler.process(read) { frames.append($0) }
            }
            guard frames.count == 1, case .topicMessage(let message) = frames[0], let item = message.arguments.args.first else {
                throw FrameError.truncatedFrame(leftoverBytes: 0)
            }
            return item
        }
        func address(_ item: ByteBuffer) -> UInt? { item.withUnsafeReadableBytes { $0.baseAddress.map { UInt(bitPattern: $0) } } }
        let first = address(try next())  // let go at once
        let second = try next()
        XCTAssertEqual(address(second), first, "the let-go buffer is used again")
        let third = try next()
        XCTAssertNotEqual(address(third), address(second), "a held buffer is not written over")
        XCTAssertEqual(Array(second.readableBytesView.prefix(3)), [3, 0x42, 0x42])
        XCTAssertEqual(second, third)
    }

    func testAFrameOverTheLimitIsAnErrorBeforeItsDataArrives() throws {
        var assembler = FrameAssembler(InboundFrameDecoder(maximumMessageSize: 1000))
        var frames: [InboundFrame] = []
        // 't', topic "x", one arg; its length comes in the next read and announces 4 GiB - 1.
        try assembler.process(ByteBuffer(bytes: [0x74, 1, 0x78, 1])) { frames.append($0) }
        XCTAssertThrowsError(try assembler.process(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF])) { frames.append($0) }) { error in
            guard case .messageTooLarge(_, let limit) = error as? FrameError else { return XCTFail("\(error)") }
            XCTAssertEqual(limit, 1000)
        }
        XCTAssertEqual(frames, [])
    }

    /// A header that claims 60 MiB (under the limit) reserves 4 MiB, not 60, until the bytes
    /// come; then the buffer grows with them, and the frame still comes out whole.
    func testAClaimedSizeReservesNoMoreThanFourMebibytesBeforeItsBytesArrive() throws {
        let claimed = 60 << 20
        var assembler = FrameAssembler(InboundFrameDecoder())
        var frames: [InboundFrame] = []
        let header: [UInt8] = [0x74, 1, 0x78, 1] + withUnsafeBytes(of: UInt32(claimed).littleEndian, Array.init)
        try assembler.process(ByteBuffer(bytes: header + [0x80, 5])) { frames.append($0) }
        XCTAssertEqual(assembler.missingBytes, claimed - 2)
        XCTAssertLessThanOrEqual(assembler.reservedBytes, 4 << 20)
        let piece = ByteBuffer(repeating: 0x41, count: 1 << 20)
        for _ in 0..<8 { try assembler.process(piece) { frames.append($0) } }
        XCTAssertLessThanOrEqual(assembler.reservedBytes, 2 * assembler.bufferedBytes + 1024, "grows with what arrived")
        var rest = ByteBuffer(repeating: 0x41, count: claimed - 2 - 8 << 20)
        rest.writeInteger(UInt8(0))
        try assembler.process(rest) { frames.append($0) }
        guard frames.count == 1, case .topicMessage(let message) = frames[0] else { return XCTFail("\(frames.count) frames") }
        XCTAssertEqual(message.arguments.args.first?.readableBytes, claimed)
    }

    func testAStreamThatEndsInsideAFrameIsAnError() throws {
        var assembler = FrameAssembler(InboundFrameDecoder())
        var frame = try topicFrame("topic", [.bytes(Array(repeating: 1, count: 10_000))])
        let cut = frame.readSlice(length: 6000)!
        var frames: [InboundFrame] = []
        try assembler.process(cut) { frames.append($0) }
        XCTAssertEqual(frames, [])
        XCTAssertEqual(assembler.bufferedBytes, 6000)
        XCTAssertThrowsError(try assembler.finish()) { error in
            XCTAssertEqual(error as? FrameError, .truncatedFrame(leftoverBytes: 6000))
        }
    }

    func testServiceResponsesToo() throws {
        var stream = ByteBuffer()
        try FrameEncoder.writeServiceResult(id: 1, result: .bytes(Array(repeating: 9, count: 300_000)), codec: codec, into: &stream)
        FrameEncoder.writeServiceError(id: 2, message: "ValueError('bad')", into: &stream)
        var assembler = FrameAssembler(ServiceResponseDecoder())
        var responses: [ServiceResponseFrame] = []
        while let read = stream.readSlice(length: min(10_000, stream.readableBytes)), read.readableBytes > 0 {
            try assembler.process(read) { responses.append($0) }
        }
        XCTAssertEqual(responses.map(\.id), [1, 2])
        XCTAssertEqual(responses.last?.outcome, .failure("ValueError('bad')"))
    }

    /// The pipeline decoders (`ByteToMessageHandler`) give the same frames for a large frame
    /// that arrives in many small reads.
    func testPipelineDecoderWithALargeFrameInManyReads() throws {
        let (stream, expected) = try mixedStream()
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(InboundFrameDecoder()))
        var rest = stream
        while let read = rest.readSlice(length: min(40_000, rest.readableBytes)), read.readableBytes > 0 {
            try channel.writeInbound(read)
        }
        var frames: [InboundFrame] = []
        while let frame = try channel.readInbound(as: InboundFrame.self) { frames.append(frame) }
        XCTAssertEqual(frames, expected)
        XCTAssertTrue(try channel.finish().isClean)
    }

    func testPipelineDecoderWithVerifierOnLargeFrames() throws {
        let big = Value.bytes(Array(repeating: 5, count: 20_000))
        var frame = try topicFrame("big", [big], ["k": big])
        var decoder = InboundFrameDecoder()
        let decoded = try XCTUnwrap(try decoder.decode(buffer: &frame))
        XCTAssertNoThrow(try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [(try topicFrame("big", [big], ["k": big]), [decoded])]) { InboundFrameDecoder() })
    }
}
