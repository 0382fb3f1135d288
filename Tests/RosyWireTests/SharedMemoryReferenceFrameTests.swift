import NIOCore
import RosyWire
import XCTest

/// The `m` frame (a frame's place in a shared-memory lane): its bytes, read only by a
/// decoder that was told the connection has a lane, an unknown prefix otherwise.
final class SharedMemoryReferenceFrameTests: XCTestCase {
    func testItsBytesAreThePrefixAPositionAndALength() {
        var buffer = ByteBuffer()
        FrameEncoder.writeSharedMemoryReference(SharedMemoryReference(position: 0x0102_0304_0506_0708, length: 0x0A0B_0C0D), into: &buffer)
        XCTAssertEqual(Array(buffer.readableBytesView), [0x6D, 8, 7, 6, 5, 4, 3, 2, 1, 0x0D, 0x0C, 0x0B, 0x0A])
        XCTAssertEqual(buffer.readableBytes, SharedMemoryReference.encodedSize)
    }

    func testOnlyADecoderToldOfTheLaneReadsIt() throws {
        let reference = SharedMemoryReference(position: 1 << 40, length: 1_048_600)
        var frame = ByteBuffer()
        FrameEncoder.writeSharedMemoryReference(reference, into: &frame)

        var plain = InboundFrameDecoder()
        var copy = frame
        XCTAssertThrowsError(try plain.decode(buffer: &copy)) { error in
            XCTAssertEqual(error as? FrameError, .unknownPrefix(0x6D))
        }

        var assembler = FrameAssembler(InboundFrameDecoder())
        assembler.updateDecoder { $0.acceptsSharedMemoryReferences = true }
        var frames: [InboundFrame] = []
        // In two reads, cut inside the position: the decoder waits for the rest.
        try assembler.process(frame.getSlice(at: 0, length: 5)!) { frames.append($0) }
        XCTAssertTrue(frames.isEmpty)
        try assembler.process(frame.getSlice(at: 5, length: 8)!) { frames.append($0) }
        XCTAssertEqual(frames, [.sharedMemoryReference(reference)])
        try assembler.finish()
    }
}
