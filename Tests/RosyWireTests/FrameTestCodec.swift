import NIOCore
import RosyWire
import XCTest

/// A tiny codec for frame tests (tag byte + payload), so that these tests need no real codec.
struct FrameTestCodec: MessageCodec {
    let name = "frame-test"

    func encode(_ value: Value, into buffer: inout ByteBuffer) throws {
        switch value {
        case .none: buffer.writeInteger(UInt8(0))
        case .int(let i): buffer.writeInteger(UInt8(1)); buffer.writeInteger(i)
        case .string(let s): buffer.writeInteger(UInt8(2)); buffer.writeString(s)
        case .bytes(let b): buffer.writeInteger(UInt8(3)); buffer.writeBytes(b)
        default: throw CodecError(codec: name, "unsupported value \(value)")
        }
    }

    func decode(_ buffer: inout ByteBuffer) throws -> Value {
        guard let tag = buffer.readInteger(as: UInt8.self) else { throw CodecError(codec: name, "empty") }
        switch tag {
        case 0: return .none
        case 1:
            guard let i = buffer.readInteger(as: Int64.self) else { throw CodecError(codec: name, "short int") }
            return .int(i)
        case 2: return .string(buffer.readString(length: buffer.readableBytes) ?? "")
        case 3: return .bytes(buffer.readBytes(length: buffer.readableBytes) ?? [])
        default: throw CodecError(codec: name, "unknown tag \(tag)")
        }
    }
}

extension XCTestCase {
    /// A topic message frame written with ``FrameTestCodec``.
    func topicFrame(_ topic: String, _ args: [Value], _ kwargs: KeyValuePairs<String, Value> = [:]) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        try FrameEncoder.writeTopicMessage(topic: topic, args: args, kwargs: kwargs, codec: FrameTestCodec(), into: &buffer)
        return buffer
    }

    /// A service request frame written with ``FrameTestCodec``.
    func requestFrame(_ id: UInt16, _ service: String, _ args: [Value]) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        try FrameEncoder.writeServiceRequest(id: id, service: service, args: args, kwargs: [String: Value](), codec: FrameTestCodec(), into: &buffer)
        return buffer
    }
}
