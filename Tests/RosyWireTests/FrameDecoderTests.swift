import NIOCore
import NIOEmbedded
import NIOTestUtils
import RosyWire
import XCTest

final class FrameDecoderTests: XCTestCase {
    let codec = FrameTestCodec()

    private func dataItem(_ value: Value) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        try codec.encode(value, into: &buffer)
        return buffer
    }

    func testTopicMessageBytesMatchTheReference() throws {
        // 't', u8 topic length, topic, u8 args, (u32 len, data), u8 kwargs, (u8 key len, key, u32 len, data)
        let frame = try topicFrame("ab", [.none], ["k": .none])
        XCTAssertEqual(Array(frame.readableBytesView), [
            0x74, 2, 0x61, 0x62,
            1, 1, 0, 0, 0, 0,
            1, 1, 0x6B, 1, 0, 0, 0, 0,
        ])
    }

    func testServiceResponsesBytesMatchTheReference() throws {
        var ok = ByteBuffer()
        try FrameEncoder.writeServiceResult(id: 0x0102, result: .none, codec: codec, into: &ok)
        XCTAssertEqual(Array(ok.readableBytesView), [0x02, 0x01, 0x00, 1, 0, 0, 0, 0])
        var failure = ByteBuffer()
        FrameEncoder.writeServiceError(id: 7, message: "no", into: &failure)
        XCTAssertEqual(Array(failure.readableBytesView), [7, 0, 0xEE, 2, 0, 0x6E, 0x6F])
    }

    func testEncodedSizeOfADecodedTopicFrameIsItsLengthOnTheWire() throws {
        for (topic, args, kwargs) in [("t", [Value](), [String: Value]()), ("some-topic", ["hello", 42, .bytes([1, 2, 3])], [:]),
                                      ("é-topic", [.list([1, 2])], ["name": "world", "pi": .double(3.14)])] {
            // Pickle: lists too (the test codec has none).
            var buffer = ByteBuffer()
            try FrameEncoder.writeTopicMessage(topic: topic, args: args, kwargs: kwargs.sorted { $0.key < $1.key },
                                               codec: PickleCodec(), into: &buffer)
            let length = buffer.readableBytes
            var decoder = InboundFrameDecoder()
            guard case .topicMessage(let frame)? = try decoder.decode(buffer: &buffer) else { return XCTFail("no topic frame") }
            XCTAssertEqual(frame.encodedSize, length, topic)
        }
    }

    func testInboundDecoderWithVerifier() throws {
        let pairs: [(ByteBuffer, [InboundFrame])] = [
            (try topicFrame("some-topic", ["hello"], ["name": "world"]), [
                .topicMessage(TopicMessageFrame(topic: "some-topic", arguments: RawArguments(
                    args: [try dataItem("hello")],
                    kwargs: [RawKeywordArgument(name: "name", data: try dataItem("world"))]))),
            ]),
            (try requestFrame(65535, "multiply", [2, 2]), [
                .serviceRequest(ServiceRequestFrame(id: 65535, service: "multiply", arguments: RawArguments(
                    args: [try dataItem(2), try dataItem(2)]))),
            ]),
            (try topicFrame("", []), [.topicMessage(TopicMessageFrame(topic: "", arguments: RawArguments()))]),
            (try topicFrame("bulk", [.bytes(Array(repeating: 7, count: 5_000))]), [
                .topicMessage(TopicMessageFrame(topic: "bulk", arguments: RawArguments(
                    args: [try dataItem(.bytes(Array(repeating: 7, count: 5_000)))]))),
            ]),
        ]
        XCTAssertNoThrow(try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { InboundFrameDecoder() })
    }

    func testResponseDecoderWithVerifier() throws {
        var ok = ByteBuffer()
        try FrameEncoder.writeServiceResult(id: 3, result: 4, codec: codec, into: &ok)
        var failure = ByteBuffer()
        FrameEncoder.writeServiceError(id: 4, message: "ValueError('bad')", into: &failure)
        let pairs: [(ByteBuffer, [ServiceResponseFrame])] = [
            (ok, [ServiceResponseFrame(id: 3, outcome: .success(try dataItem(4)))]),
            (failure, [ServiceResponseFrame(id: 4, outcome: .failure("ValueError('bad')"))]),
        ]
        XCTAssertNoThrow(try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { ServiceResponseDecoder() })
    }

    func testUnknownPrefixIsAnError() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(InboundFrameDecoder()))
        XCTAssertThrowsError(try channel.writeInbound(ByteBuffer(bytes: [0x78, 0, 0, 0]))) { error in
            XCTAssertEqual(error as? FrameError, .unknownPrefix(0x78))
        }
        _ = try? channel.finish()
    }

    func testOversizedLengthIsAnErrorBeforeTheDataArrives() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(InboundFrameDecoder(maximumMessageSize: 1000)))
        // 't', topic "x", one arg announcing 4 GiB - 1.
        XCTAssertThrowsError(try channel.writeInbound(ByteBuffer(bytes: [0x74, 1, 0x78, 1, 0xFF, 0xFF, 0xFF, 0xFF]))) { error in
            guard case .messageTooLarge(_, let limit) = error as? FrameError else { return XCTFail("\(error)") }
            XCTAssertEqual(limit, 1000)
        }
        _ = try? channel.finish()
    }

    func testInvalidUTF8TopicIsAnError() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(InboundFrameDecoder()))
        XCTAssertThrowsError(try channel.writeInbound(ByteBuffer(bytes: [0x74, 2, 0xC3, 0x28, 0, 0]))) { error in
            XCTAssertEqual(error as? FrameError, .invalidUTF8(field: "topic"))
        }
        _ = try? channel.finish()
    }

    func testTruncatedFrameAtEndOfStreamIsAnError() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(InboundFrameDecoder()))
        var frame = try topicFrame("topic", ["hello"])
        let partial = frame.readSlice(length: frame.readableBytes - 2)!
        XCTAssertNoThrow(try channel.writeInbound(partial))
        XCTAssertNil(try channel.readInbound(as: InboundFrame.self))
        XCTAssertThrowsError(try channel.finish()) { error in
            XCTAssertEqual(error as? FrameError, .truncatedFrame(leftoverBytes: partial.readableBytes))
        }
    }

    func testUnknownResponseStatusIsAnError() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(ServiceResponseDecoder()))
        XCTAssertThrowsError(try channel.writeInbound(ByteBuffer(bytes: [1, 0, 0x42]))) { error in
            XCTAssertEqual(error as? FrameError, .unknownResponseStatus(0x42))
        }
        _ = try? channel.finish()
    }

    func testLimitsAreCheckedAtTheCallBeforeWriting() throws {
        var buffer = ByteBuffer()
        let longName = String(repeating: "x", count: 256)
        XCTAssertThrowsError(try FrameEncoder.writeTopicMessage(topic: longName, args: [], kwargs: [String: Value](), codec: codec, into: &buffer)) {
            XCTAssertEqual($0 as? FrameError, .nameTooLong(longName, bytes: 256))
        }
        let manyArgs = [Value](repeating: .none, count: 256)
        XCTAssertThrowsError(try FrameEncoder.writeTopicMessage(topic: "t", args: manyArgs, kwargs: [String: Value](), codec: codec, into: &buffer)) {
            XCTAssertEqual($0 as? FrameError, .tooManyArguments(count: 256))
        }
        var manyKwargs: [String: Value] = [:]
        for i in 0..<256 { manyKwargs["k\(i)"] = Value.none }
        XCTAssertThrowsError(try FrameEncoder.writeServiceRequest(id: 0, service: "s", args: [], kwargs: manyKwargs, codec: codec, into: &buffer))
        XCTAssertThrowsError(try FrameEncoder.writeTopicMessage(topic: "t", args: [], kwargs: [longName: Value.none], codec: codec, into: &buffer))
        // An unencodable argument leaves the buffer as it was.
        XCTAssertThrowsError(try FrameEncoder.writeTopicMessage(topic: "t", args: [1, .double(1.5)], kwargs: [String: Value](), codec: codec, into: &buffer))
        XCTAssertEqual(buffer.readableBytes, 0)
    }

    /// Random and truncated streams: every outcome is a frame, "need more data" or a FrameError.
    func testRandomAndTruncatedStreamsNeverCrashOrHang() throws {
        var generator = SystemRandomNumberGenerator()
        let valid = [
            try topicFrame("some-topic", ["hello", 42], ["name": "world"]),
            try requestFrame(9, "multiply", [2, 2]),
        ]
        for round in 0..<3000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int.random(in: 0..<64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                if round % 4 == 0 { bytes.insert(round % 8 == 0 ? 0x74 : 0x73, at: 0) }
            } else {
                var frame = valid[round % valid.count]
                bytes = frame.readBytes(length: frame.readableBytes) ?? []
                let cut = Int.random(in: 0..<bytes.count, using: &generator)
                bytes = Array(bytes[..<cut])
                if round % 3 == 0 && !bytes.isEmpty { bytes[Int.random(in: 0..<bytes.count)] ^= 0xFF }
            }
            for decoderKind in 0..<2 {
                var buffer = ByteBuffer(bytes: bytes)
                var steps = 0
                do {
                    if decoderKind == 0 {
                        var decoder = InboundFrameDecoder(maximumMessageSize: 4096)
                        while try decoder.decode(buffer: &buffer) != nil { steps += 1; XCTAssertLessThan(steps, 100) }
                        _ = try decoder.decodeLast(buffer: &buffer, seenEOF: true)
                    } else {
                        var decoder = ServiceResponseDecoder(maximumMessageSize: 4096)
                        while try decoder.decode(buffer: &buffer) != nil { steps += 1; XCTAssertLessThan(steps, 100) }
                        _ = try decoder.decodeLast(buffer: &buffer, seenEOF: true)
                    }
                } catch {
                    XCTAssertTrue(error is FrameError, "unexpected \(error)")
                }
            }
        }
    }

    func testRawArgumentsDecodeWithTheCodec() throws {
        var frame = try topicFrame("t", ["hello", 3], ["name": "world"])
        var decoder = InboundFrameDecoder()
        guard case .topicMessage(let message)? = try decoder.decode(buffer: &frame) else { return XCTFail("no frame") }
        let (args, kwargs) = try message.arguments.decoded(with: codec)
        XCTAssertEqual(args, ["hello", 3])
        XCTAssertEqual(kwargs.map(\.name), ["name"])
        XCTAssertEqual(kwargs.map(\.value), ["world"])
    }
}
