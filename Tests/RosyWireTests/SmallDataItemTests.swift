import NIOCore
@testable import RosyWire
import XCTest

/// A data item, or a whole frame, that the codec puts straight into the buffer's free room
/// (in one access) has the very bytes of the general path, whether it fits the room or not.
final class SmallDataItemTests: XCTestCase {
    private let values: [Value] = [
        .none, .bool(true), .int(0), .int(255), .int(65_535), .int(-1), .int(Int64(Int32.max)),
        .int(Int64(Int32.max) + 1), .double(1.5), .string(""), .string("é"), .string("hello"),
        .string(String(repeating: "A", count: 1_000)), .string(String(repeating: "B", count: 70_000)),
        .bytes([1, 2, 3]), .tuple([.double(2.5), .string("x"), .int(7)]),
        .tuple([.string("a"), .string("a")]), .list([.int(1)]), .dict([.string("k"): .int(1)]),
    ]

    /// The general path: the codec's `encode(_:into:)` after a u32 length.
    private func generalItem(_ value: Value) throws -> [UInt8] {
        var body = ByteBuffer()
        try PickleCodec().encode(value, into: &body)
        var item = ByteBuffer()
        item.writeInteger(UInt32(body.readableBytes), endianness: .little)
        item.writeBuffer(&body)
        return Array(item.readableBytesView)
    }

    func testTheDirectPathWritesTheGeneralPathsBytes() throws {
        for value in values {
            for room in [0, 10, 70, 2_000, 100_000] {
                // A buffer with a few bytes before and about `room` bytes free after them.
                var buffer = ByteBuffer(bytes: [9, 9, 9])
                buffer.reserveCapacity(minimumWritableBytes: room)
                try FrameEncoder.writeDataItem(value, codec: PickleCodec(), into: &buffer)
                XCTAssertEqual(Array(buffer.readableBytesView.dropFirst(3)), try generalItem(value), "\(value) with \(room) bytes free")
            }
        }
    }

    func testSmallValuesTakeTheDirectPathAndOthersAreDeclined() {
        var room = [UInt8](repeating: 0, count: 64)
        room.withUnsafeMutableBytes { space in
            XCTAssertNotNil(PickleCodec().encode(.int(7), ifItFits: space))
            XCTAssertNotNil(PickleCodec().encode(.tuple([.double(1), .string("")]), ifItFits: space))
            XCTAssertNil(PickleCodec().encode(.list([.int(1)]), ifItFits: space), "no short form")
            XCTAssertNil(PickleCodec().encode(.string(String(repeating: "A", count: 100)), ifItFits: space), "does not fit")
            XCTAssertNil(JSONCodec().encode(.int(7), ifItFits: space), "the default declines")
        }
    }

    /// A frame written whole (every argument direct) has the bytes of the generic encoder,
    /// which writes piece by piece; so has one that falls back half way.
    func testWholeFramesHaveThePieceByPieceBytes() throws {
        let argumentLists: [[Value]] = [[], [.int(0)], [.double(1.5), .string("")], values, [.string(String(repeating: "C", count: 3_000))]]
        let kwargsLists: [Kwargs] = [[:], ["speed": .double(2)], ["a": .int(1), "bb": .list([.none])]]
        let codec: any MessageCodec = PickleCodec()
        for args in argumentLists {
            for kwargs in kwargsLists {
                for room in [0, 40, 500, 10_000] {
                    var whole = ByteBuffer(bytes: [7])
                    whole.reserveCapacity(minimumWritableBytes: room)
                    try FrameEncoder.writeServiceRequest(id: 513, service: "echo", args: args, kwargs: kwargs, codec: codec, into: &whole)
                    var pieces = ByteBuffer(bytes: [7])
                    try FrameEncoder.writeServiceRequest(id: 513, service: "echo", args: args, kwargs: Array(kwargs), codec: PickleCodec(), into: &pieces)
                    XCTAssertEqual(whole, pieces, "request \(args.count) args, \(kwargs.count) kwargs, \(room) bytes free")

                    whole = ByteBuffer(bytes: [7])
                    whole.reserveCapacity(minimumWritableBytes: room)
                    try FrameEncoder.writeTopicMessage(topic: "pose", args: args, kwargs: kwargs, codec: codec, into: &whole)
                    pieces = ByteBuffer(bytes: [7])
                    try FrameEncoder.writeTopicMessage(topic: "pose", args: args, kwargs: Array(kwargs), codec: PickleCodec(), into: &pieces)
                    XCTAssertEqual(whole, pieces, "message \(args.count) args, \(kwargs.count) kwargs, \(room) bytes free")
                }
            }
        }
    }
}
