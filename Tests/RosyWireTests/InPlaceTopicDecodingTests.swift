import NIOCore
import RosyWire
import XCTest

/// `InboundFrameDecoder.decodeTopicMessage`, which reads a topic message where it lies (a
/// shared-memory lane), against the decoder and the codec reading a buffer.
final class InPlaceTopicDecodingTests: XCTestCase {
    private let codecs: [any MessageCodec] = [PickleCodec(), JSONCodec(), MsgpackCodec()]

    private func frame(_ topic: String, _ args: [Value], _ kwargs: KeyValuePairs<String, Value> = [:],
                       codec: any MessageCodec) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        try FrameEncoder.writeTopicMessage(topic: topic, args: args, kwargs: kwargs, codec: codec, into: &buffer)
        return buffer
    }

    private func decodeInPlace(_ buffer: ByteBuffer, codec: any MessageCodec, limit: Int = defaultMaximumMessageSize) throws -> DecodedTopicMessage? {
        try buffer.withUnsafeReadableBytes { try InboundFrameDecoder.decodeTopicMessage($0, maximumMessageSize: limit, codec: codec) }
    }

    /// What the decoder and the codec make of the same bytes.
    private func decodeFromBuffer(_ buffer: ByteBuffer, codec: any MessageCodec) throws -> (String, [Value], [String], [Value])? {
        var buffer = buffer
        var decoder = InboundFrameDecoder()
        guard case .topicMessage(let frame)? = try decoder.decode(buffer: &buffer), buffer.readableBytes == 0 else { return nil }
        let (args, kwargs) = try frame.arguments.decoded(with: codec)
        return (frame.topic, args, kwargs.map(\.name), kwargs.map(\.value))
    }

    func testEveryCodecReadsTheSameMessageInPlaceAsFromABuffer() throws {
        let big = String(repeating: "é", count: 100_000)
        let cases: [(String, [Value], KeyValuePairs<String, Value>)] = [
            ("t", [], [:]),
            ("some-topic", ["hello", 42, .double(2.5), .none, true], [:]),
            ("é-topic", [.list([1, 2]), .string(big)], ["name": "world", "pi": .double(3.14)]),
            ("kwargs-only", [], ["a": 1, "b": .dict(["k": "v"])]),
        ]
        for codec in codecs {
            for (topic, args, kwargs) in cases {
                let bytes = try frame(topic, args, kwargs, codec: codec)
                let message = try XCTUnwrap(try decodeInPlace(bytes, codec: codec), "\(codec.name) \(topic)")
                let expected = try XCTUnwrap(try decodeFromBuffer(bytes, codec: codec))
                XCTAssertEqual(message.topic, expected.0)
                XCTAssertEqual(message.args, expected.1, "\(codec.name) \(topic)")
                XCTAssertEqual(Array(message.kwargs.keys), expected.2)
                XCTAssertEqual(Array(message.kwargs.values), expected.3)
                XCTAssertEqual(message.wireSize, bytes.readableBytes)
            }
        }
    }

    /// Anything but exactly one whole topic message is left to the decoder (nil): it reads a
    /// copy and names the problem.
    func testOtherFramesAndBadFramingAreLeftToTheDecoder() throws {
        let codec = PickleCodec()
        let message = try frame("t", ["hello"], codec: codec)
        var request = ByteBuffer()
        try FrameEncoder.writeServiceRequest(id: 1, service: "s", args: ["x"], kwargs: [String: Value](), codec: codec, into: &request)
        var two = message
        two.writeImmutableBuffer(message)
        var truncated = message
        truncated.moveWriterIndex(to: truncated.writerIndex - 1)
        var badTopic = message
        badTopic.setBytes([0xFF], at: badTopic.readerIndex + 2)
        for (name, bytes) in [("request", request), ("two frames", two), ("truncated", truncated),
                              ("topic not UTF-8", badTopic), ("empty", ByteBuffer())] {
            XCTAssertNil(try decodeInPlace(bytes, codec: codec), name)
        }
        XCTAssertNil(try decodeInPlace(message, codec: codec, limit: message.readableBytes - 1), "over the limit")
        XCTAssertNotNil(try decodeInPlace(message, codec: codec, limit: message.readableBytes))
    }

    func testUndecodableDataNamesItsTopic() throws {
        var bytes = ByteBuffer()
        bytes.writeBytes([0x74, 4] + Array("pose".utf8) + [1, 3, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0])
        XCTAssertThrowsError(try decodeInPlace(bytes, codec: PickleCodec())) { error in
            let undecodable = error as? UndecodableTopicMessage
            XCTAssertEqual(undecodable?.topic, "pose")
            XCTAssertTrue(undecodable?.error is CodecError, "\(error)")
        }
    }

    /// Random and damaged frames: in place and from a buffer agree (both a message, both
    /// an error from the codec, or nil where the decoder finds no single whole frame or a
    /// framing error).
    func testRandomAndDamagedFramesAgreeWithTheDecoder() throws {
        var generator = SystemRandomNumberGenerator()
        let codec = PickleCodec()
        let valid = try frame("some-topic", ["hello", 42, .bytes([1, 2, 3])], ["name": "world"], codec: codec)
        let original = Array(valid.readableBytesView)
        for round in 0..<5000 {
            var bytes = original
            for _ in 0..<(1 + round % 3) { bytes[Int.random(in: 0..<bytes.count, using: &generator)] = .random(in: 0...255, using: &generator) }
            if round % 5 == 0 { bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator))) }
            let buffer = ByteBuffer(bytes: bytes)
            let fromBuffer = Result { try decodeFromBuffer(buffer, codec: codec) }
            let inPlace = Result { try decodeInPlace(buffer, codec: codec) }
            switch (inPlace, fromBuffer) {
            case (.success(let message?), .success(let expected?)):
                XCTAssertEqual(message.topic, expected.0)
                XCTAssertEqual(message.args, expected.1)
                XCTAssertEqual(Array(message.kwargs.values), expected.3)
            case (.success(nil), .success(let expected)):
                XCTAssertNil(expected, "round \(round): the decoder reads a message that was left to it")
            case (.success(nil), .failure(let expected)):
                XCTAssertTrue(expected is FrameError, "round \(round): \(expected)")  // the decoder names the problem
            case (.failure(let error), .failure(let expected)):
                XCTAssertTrue(error is UndecodableTopicMessage, "\(error)")
                XCTAssertTrue(expected is CodecError, "\(expected)")
            default:
                XCTFail("round \(round): in place \(inPlace), from a buffer \(fromBuffer), bytes \(bytes)")
            }
        }
    }
}
