import NIOCore
@testable import Rosy
import XCTest

/// The outbox alone: order, the batch buffer, large frames, dropping the oldest, expiry.
final class OutboxTests: XCTestCase {
    /// A deadline far ahead (computed when used: XCTest makes every test object at start-up,
    /// long before some tests run).
    private var later: NIODeadline { .now() + .seconds(60) }

    private func bytes(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    private func strings(_ taken: Outbox.Writes) -> [String] {
        taken.buffers.map { String(buffer: $0.bytes(allocator: ByteBufferAllocator())) }
    }

    func testSmallMessagesGoOutAsOneWriteInOrder() {
        var outbox = Outbox()
        outbox.append(deadline: later) { $0.writeString("one,") }
        outbox.append(bytes("two,"), deadline: later)
        outbox.append(deadline: later) { $0.writeString("three") }
        XCTAssertEqual(outbox.count, 3)
        let taken = outbox.writes(now: .now())
        XCTAssertEqual(strings(taken), ["one,two,three"])
        XCTAssertEqual(taken.expired, 0)
        XCTAssertEqual(strings(Outbox().writes(now: .now())), [])
    }

    func testLargeFramesKeepTheirPlaceAndAreNotCopied() {
        var outbox = Outbox()
        let large = ByteBuffer(repeating: UInt8(ascii: "L"), count: Outbox.coalesceLimit + 1)
        outbox.append(bytes("a"), deadline: later)
        outbox.append(bytes("b"), deadline: later)
        outbox.append(large, deadline: later)
        outbox.append(bytes("c"), deadline: later)
        let taken = outbox.writes(now: .now())
        guard taken.buffers.count == 3 else { return XCTFail("expected 3 writes, got \(taken.buffers.count)") }
        XCTAssertEqual(String(buffer: taken.buffers[0].bytes(allocator: ByteBufferAllocator())), "ab")
        XCTAssertEqual(taken.buffers[1].bytes(allocator: ByteBufferAllocator()), large)
        XCTAssertEqual(String(buffer: taken.buffers[2].bytes(allocator: ByteBufferAllocator())), "c")
        // Only the large frame may go into a shared-memory lane, however long a run is.
        XCTAssertEqual(taken.buffers.map(\.isOneLargeFrame), [false, true, false])
        // The same storage: the large frame went through without a copy.
        large.withUnsafeReadableBytes { original in
            taken.buffers[1].bytes(allocator: ByteBufferAllocator()).withUnsafeReadableBytes { written in
                XCTAssertEqual(original.baseAddress, written.baseAddress)
            }
        }
    }

    func testRemoveFirstDropsTheOldestMessage() {
        var outbox = Outbox()
        let large = ByteBuffer(repeating: UInt8(ascii: "L"), count: Outbox.coalesceLimit + 1)
        outbox.append(bytes("1"), deadline: later)
        outbox.append(large, deadline: later)
        outbox.append(bytes("2"), deadline: later)
        outbox.append(bytes("3"), deadline: later)
        outbox.removeFirst()
        XCTAssertEqual(outbox.count, 3)
        outbox.removeFirst()
        XCTAssertEqual(strings(outbox.writes(now: .now())), ["23"])
        outbox.removeFirst()
        outbox.removeFirst()
        outbox.removeFirst()  // nothing left: no effect
        XCTAssertTrue(outbox.isEmpty)
        outbox.append(bytes("5"), deadline: later)
        XCTAssertEqual(strings(outbox.writes(now: .now())), ["5"])
    }

    func testExpiredMessagesAreLeftOutAndCounted() {
        var outbox = Outbox()
        let start = NIODeadline.now()
        let large = ByteBuffer(repeating: UInt8(ascii: "L"), count: Outbox.coalesceLimit + 1)
        outbox.append(bytes("old1,"), deadline: start + .milliseconds(1))
        outbox.append(large, deadline: start + .milliseconds(2))
        outbox.append(bytes("old2,"), deadline: start + .milliseconds(3))
        outbox.append(bytes("new1,"), deadline: start + .seconds(10))
        outbox.append(bytes("new2"), deadline: start + .seconds(11))
        let taken = outbox.writes(now: start + .milliseconds(5))
        XCTAssertEqual(taken.expired, 3)
        XCTAssertEqual(strings(taken), ["new1,new2"])
    }

    func testAFailedEncodingLeavesTheOutboxUnchanged() {
        struct Refused: Error {}
        var outbox = Outbox()
        outbox.append(bytes("kept"), deadline: later)
        XCTAssertThrowsError(try outbox.append(deadline: later) { buffer in
            let start = buffer.writerIndex
            buffer.writeString("partial")
            buffer.moveWriterIndex(to: start)
            throw Refused()
        })
        XCTAssertEqual(outbox.count, 1)
        XCTAssertEqual(strings(outbox.writes(now: .now())), ["kept"])
    }

    func testCountsTheBytesThatWait() {
        var outbox = Outbox()
        let large = ByteBuffer(repeating: 1, count: Outbox.coalesceLimit + 1)
        outbox.append(bytes("abc"), deadline: later)
        outbox.append(large, deadline: later)
        outbox.append(deadline: later) { $0.writeString("de") }
        XCTAssertEqual(outbox.bytes, 5 + large.readableBytes)
        outbox.removeFirst()
        XCTAssertEqual(outbox.bytes, 2 + large.readableBytes)
        outbox.removeFirst()
        XCTAssertEqual(outbox.bytes, 2)
        outbox.removeAll()
        XCTAssertEqual(outbox.bytes, 0)
    }

    func testRemoveAllEmptiesIt() {
        var outbox = Outbox()
        outbox.append(bytes("x"), deadline: later)
        outbox.append(ByteBuffer(repeating: 0, count: Outbox.coalesceLimit + 1), deadline: later)
        outbox.removeAll()
        XCTAssertTrue(outbox.isEmpty)
        XCTAssertEqual(outbox.writes(now: .now()).buffers.count, 0)
    }
}
