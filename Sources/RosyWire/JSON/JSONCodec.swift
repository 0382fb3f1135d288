import NIOCore

/// JSON as Python rosy's `json` codec (orjson) writes and reads it: compact UTF-8, tuples as
/// arrays, NaN and infinities as `null`, floats in their shortest form (`1.0`, `1e+100`,
/// `0.00001`, `1e-6`), non-ASCII text unescaped.
///
/// What JSON cannot carry is a ``CodecError`` when writing: bytes, sets and dict keys that
/// are not strings (orjson refuses them too). Reading gives lists for arrays and refuses
/// integers beyond 64 bits and nesting deeper than 1024 levels.
///
/// ```swift
/// var buffer = ByteBuffer()
/// try JSONCodec().encode(["pose": .tuple([1.0, 2.5])], into: &buffer)   // {"pose":[1.0,2.5]}
/// ```
public struct JSONCodec: MessageCodec {
    public let name = "json"
    /// The deepest nesting accepted when reading (orjson's limit).
    public var maxDepth = 1024

    public init() {}

    public func encode(_ value: Value, into buffer: inout ByteBuffer) throws {
        try JSONWriter.write(value, into: &buffer)
    }

    /// Decodes the whole readable part of `buffer` as one JSON text.
    public func decode(_ buffer: inout ByteBuffer) throws -> Value {
        let value = try buffer.withUnsafeReadableBytes { try decode(contentsOf: $0) }
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        return value
    }

    /// Decodes all of `bytes` as one JSON text.
    public func decode(contentsOf bytes: UnsafeRawBufferPointer) throws -> Value {
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        return try parser.parseDocument()
    }
}
