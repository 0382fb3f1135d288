import NIOCore

/// MessagePack as Python rosy's `msgpack` codec (msgpack-python defaults) writes and reads
/// it: str as the str type, bytes as bin, tuples and lists as arrays, integers in their
/// smallest encoding, floats always as float64.
///
/// Sets cannot be written (msgpack-python refuses them too). Reading maps every msgpack
/// type it can: arrays become lists, float32 becomes a double, map keys may be any value
/// (msgpack-python itself only reads str and bytes keys); ext types (timestamps included)
/// and unsigned integers beyond `Int64.max` are a ``CodecError``.
///
/// ```swift
/// var buffer = ByteBuffer()
/// try MsgpackCodec().encode(["id": 7, "blob": .bytes([1, 2])], into: &buffer)
/// ```
public struct MsgpackCodec: MessageCodec {
    public let name = "msgpack"
    /// The deepest nesting accepted when reading.
    public var maxDepth = 1024

    public init() {}

    public func encode(_ value: Value, into buffer: inout ByteBuffer) throws {
        try MsgpackWriter.write(value, into: &buffer)
    }

    /// Decodes the whole readable part of `buffer` as one msgpack object; bytes left after
    /// it are an error, as msgpack-python's `unpackb` (ExtraData) has it.
    public func decode(_ buffer: inout ByteBuffer) throws -> Value {
        let value = try buffer.withUnsafeReadableBytes { try decode(contentsOf: $0) }
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        return value
    }

    /// Decodes all of `bytes` as one msgpack object (bytes left after it are an error).
    public func decode(contentsOf bytes: UnsafeRawBufferPointer) throws -> Value {
        var reader = MsgpackReader(bytes: bytes, maxDepth: maxDepth)
        let value = try reader.read(depth: 0)
        guard reader.pos == bytes.count else {
            throw CodecError(codec: "msgpack", "\(bytes.count - reader.pos) bytes of extra data after the value")
        }
        return value
    }
}
