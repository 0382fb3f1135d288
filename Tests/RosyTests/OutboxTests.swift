import NIOCore
@testable import Rosy
import XCTest

/// The outbox alone: order, the batch buffer, large frames, dropping the oldest, expiry.
final class OutboxTests: XCTestCase {
    private let later = NIODeadline.now() + .seconds(60)

    private func bytes(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    private func strings(_ taken: Outbox.Taken) -> [String] {
        taken.writes.map { String(buffer: $0) }
    }

    func testSmallMessagesGoOutAsOneWriteInOrder() {
        var outbox = Outbox(allocator: ByteBufferAllocator())
        outbox.append(deadline: later) { $0.writeString("one,") }
        outbox.append(bytes("two,"), deadline: later)
        outbox.append(deadline: later) { $0.writeString("three") }
        XCTAssertEqual(outbox.count, 3)
        let taken = outbox.takeAll(now: .now())
        XCTAssertEqual(strings(taken), ["one,two,three"])
        XCTAssertEqual(taken.expired, 0)
        XCTAssertTrue(outbox.isEmpty)
        XCTAssertEqual(strings(outbox.takeAll(now: .now())), [])
    }

    func testLargeFramesKeepTheirPlaceAndAreNotCopied() {
        var outbox = Outbox(allocator: ByteBufferAllocator())
        let large = ByteBuffer(repeating: UInt8(ascii: "L"), count: Outbox.coalesceLimit + 1)
        outbox.append(bytes("a"), deadline: later)
        outbox.append(bytes("b"), deadline: later)
        outbox.append(large, deadline: later)
        outbox.append(bytes("c"), deadline: later)
        let taken = outbox.takeAll(now: .now())
        XCTAssertEqual(taken.writes.count, 3)
        XCTAssertEqual(String(buffer: taken.writes[0]), "ab")
        XCTAssertEqual(taken.writes[1], large)
        XCTAssertEqual(String(buffer: taken.writes[2]), "c")
        // The same storage: the large frame went through without a copy.
        large.withUnsafeReadableBytes { original in
            taken.writes[1].withUnsafeReadableBytes { written in
                XCTAssertEqual(original.baseAddress, written.baseAddress)
            }
        }
    }

    func testRemoveFirstDropsTheOldestMessage() {
        var outbox = Outbox(allocator: ByteBufferAllocator())
        let large = ByteBuffer(repeating: UInt8(ascii: "L"), count: Outbox.coalesceLimit + 1)
        outbox.append(bytes("1"), deadline: later)
        outbox.append(large, deadline: later)
        outbox.append(bytes("2"), deadline: later)
        outbox.append(bytes("3"), deadline: later)
        outbox.removeFirst()
        XCTAssertEqual(outbox.count, 3)
        outbox.removeFirst()
        XCTAssertEqual(strings(outbox.takeAll(now: .now())), ["23"])
        outbox.append(bytes("4"), deadline: later)
        outbox.removeFirst()
        outbox.removeFirst()  // nothing left: no effect
        XCTAssertTrue(outbox.isEmpty)
        outbox.append(bytes("5"), deadline: later)
        XCTAssertEqual(strings(outbox.takeAll(now: .now())), ["5"])
    }

    func testExpiredMessagesAreLeftOutAndCounted() {
        var outbox = Outbox(allocator: ByteBufferAllocator())
        let start = NIODeadline.now()
        let large = ByteBuffer(repeating: UInt8(ascii: "L"), count: Outbox.coalesceLimit + 1)
        outbox.append(bytes("old1,"), deadline: start + .milliseconds(1))
        outbox.append(large, deadline: start + .milliseconds(2))
        outbox.append(bytes("old2,"), deadline: start + .milliseconds(3))
        outbox.append(bytes("new1,"), deadline: start + .seconds(10))
        outbox.append(bytes("new2"), deadline: start + .seconds(11))
        let taken = outbox.takeAll(now: start + .milliseconds(5))
        XCTAssertEqual(taken.expired, 3)
        XCTAssertEqual(strings(taken), ["new1,new2"])
    }

    func testAFailedEncodingLeavesTheOutboxUnchanged() {
        struct Refused: Error {}
        var outbox = Outbox(allocator: ByteBufferAllocator())
        outbox.append(bytes("kept"), deadline: later)
        XCTAssertThrowsError(try outbox.append(deadline: later) { buffer in
            let start = buffer.writerIndex
            buffer.writeString("partial")
            buffer.moveWriterIndex(to: start)
            throw Refused()
        })
        XCTAssertEqual(outbox.count, 1)
        XCTAssertEqual(strings(outbox.takeAll(now: .now())), ["kept"])
    }

    func testRemoveAllEmptiesIt() {
        var outbox = Outbox(allocator: ByteBufferAllocator())
        outbox.append(bytes("x"), deadline: later)
        outbox.append(ByteBuffer(repeating: 0, count: Outbox.coalesceLimit + 1), deadline: later)
        outbox.removeAll()
        XCTAssertTrue(outbox.isEmpty)
        XCTAssertEqual(outbox.takeAll(now: .now()).writes.count, 0)
    }
}
