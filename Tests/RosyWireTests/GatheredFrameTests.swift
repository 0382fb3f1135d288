import NIOCore
import RosyWire
import XCTest

/// `FrameEncoder.gatherTopicMessage`: a frame whose large payloads are put in when it is
/// written out must be the very bytes `writeTopicMessage` writes.
final class GatheredFrameTests: XCTestCase {
    private let codecs: [any MessageCodec] = [PickleCodec(), JSONCodec(), MsgpackCodec()]

    private func plain(_ topic: String, _ args: [Value], _ kwargs: Kwargs, codec: any MessageCodec) throws -> [UInt8] {
        var buffer = ByteBuffer()
        try FrameEncoder.writeTopicMessage(topic: topic, args: args, kwargs: kwargs, codec: codec, into: &buffer)
        return Array(buffer.readableBytesView)
    }

    func testGatheredFramesAreTheBytesOfAPlainFrame() throws {
        let large = String(repeating: "A", count: 300_000)
        let accented = String(repeating: "é", count: 40_000)  // 80,000 bytes of UTF-8
        let blob = Value.bytes((0..<100_000).map { UInt8(truncatingIfNeeded: $0) })
        let cases: [(String, [Value], Kwargs)] = [
            ("small", ["hello", 42, .double(2.5)], [:]),
            ("bench", [.tuple([.double(1.5), .string(large)])], [:]),
            ("alone", [.string(large)], [:]),
            ("two", [.list([.string(accented), 7, blob]), .string(large)], ["name": "world", "blob": blob]),
            ("just-under", [.string(String(repeating: "x", count: 65_535))], [:]),
            ("at-threshold", [.string(String(repeating: "x", count: 65_536))], [:]),
            ("nested", [.dict(["k": .list([.string(large), .string(large)])])], ["kw": .tuple([.none, .string(accented)])]),
        ]
        for codec in codecs {
            for (topic, args, kwargs) in cases {
                guard let expected = try? plain(topic, args, kwargs, codec: codec) else {
                    // What the codec refuses (bytes in JSON), it refuses gathered too.
                    XCTAssertThrowsError(try FrameEncoder.gatherTopicMessage(topic: topic, args: args, kwargs: kwargs, codec: codec))
                    continue
                }
                let gathered = try FrameEncoder.gatherTopicMessage(topic: topic, args: args, kwargs: kwargs, codec: codec)
                XCTAssertEqual(gathered.size, expected.count, "\(codec.name) \(topic)")
                let written = gathered.materialized()
                XCTAssertTrue(written.readableBytesView.elementsEqual(expected), "\(codec.name) \(topic): written")
                let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: gathered.size + 7, alignment: 1)
                defer { memory.deallocate() }
                gathered.put(into: memory)
                XCTAssertTrue(memory.prefix(gathered.size).elementsEqual(expected), "\(codec.name) \(topic): put")
            }
        }
    }

    /// Pickle leaves out the payloads of 64 KiB and more, and only those; json and msgpack
    /// leave out nothing.
    func testPickleLeavesOutOnlyLargePayloads() throws {
        let large = String(repeating: "A", count: 1_048_576)
        let args: [Value] = [.tuple([.double(1.5), .string(large)]), .string(String(repeating: "x", count: 65_535)), .bytes(Array(repeating: 1, count: 70_000))]
        let pickled = try FrameEncoder.gatherTopicMessage(topic: "t", args: args, kwargs: [:], codec: PickleCodec())
        XCTAssertEqual(pickled.payloads.map(\.count), [1_048_576, 70_000])
        XCTAssertLessThan(pickled.head.readableBytes, 65_535 + 200)
        let higher = try FrameEncoder.gatherTopicMessage(topic: "t", args: args, kwargs: [:], codec: PickleCodec(),
                                                         deferringPayloadsFrom: 100_000)
        XCTAssertEqual(higher.payloads.map(\.count), [1_048_576])
        XCTAssertTrue(PickleCodec().leavesOutLargePayloads)
        for codec in [JSONCodec(), MsgpackCodec()] as [any MessageCodec] {
            XCTAssertFalse(codec.leavesOutLargePayloads, codec.name)
            let gathered = try FrameEncoder.gatherTopicMessage(topic: "t", args: Array(args.prefix(2)), kwargs: [:], codec: codec)
            XCTAssertTrue(gathered.payloads.isEmpty, codec.name)
        }
    }

    /// A gathered frame reads back as the message sent: Python's pickle reads what the
    /// general path writes, and these are the same bytes.
    func testAGatheredFrameDecodes() throws {
        let large = String(repeating: "B", count: 200_000)
        let gathered = try FrameEncoder.gatherTopicMessage(
            topic: "t", args: [.tuple([.double(3.25), .string(large)])], kwargs: ["k": .bytes([9, 9])], codec: PickleCodec())
        var buffer = gathered.materialized()
        var decoder = InboundFrameDecoder()
        guard case .topicMessage(let frame)? = try decoder.decode(buffer: &buffer) else { return XCTFail("no topic message") }
        let (args, kwargs) = try frame.arguments.decoded(with: PickleCodec())
        XCTAssertTrue(args == [.tuple([.double(3.25), .string(large)])], "args differ")
        XCTAssertEqual(kwargs.map(\.name), ["k"])
        XCTAssertEqual(kwargs.map(\.value), [.bytes([9, 9])])
    }

    func testLimitsAreCheckedFirst() {
        XCTAssertThrowsError(try FrameEncoder.gatherTopicMessage(
            topic: String(repeating: "n", count: 256), args: [], kwargs: [:], codec: PickleCodec()))
    }
}
