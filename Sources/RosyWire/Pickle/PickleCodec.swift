import NIOCore

/// The default codec, as Python rosy's: Python pickles of plain data.
///
/// Writes protocol 5 as `pickle.dumps` does; reads protocols 0 to 5 of plain data (None,
/// bool, int up to 64 bits, float, str, bytes/bytearray, tuple, list, dict, set/frozenset).
/// A pickle that names any global or builds any object is refused with a ``CodecError``
/// and nothing in it is run.
///
/// ```swift
/// var buffer = ByteBuffer()
/// try PickleCodec().encode(["x": 1.5], into: &buffer)
/// let value = try PickleCodec().decode(&buffer)   // ["x": 1.5]
/// ```
public struct PickleCodec: MessageCodec {
    public let name = "pickle"
    public init() {}

    public func encode(_ value: Value, into buffer: inout ByteBuffer) throws {
        var emitter = PickleEmitter()
        emitter.writePickle(of: value, into: &buffer)
    }

    /// Leaves out str and bytes payloads of `threshold` bytes or more (and 64 KiB at least:
    /// pickle writes those outside its frames, so the bytes around them do not depend on them).
    public func encode(_ value: Value, into buffer: inout ByteBuffer, deferringPayloadsFrom threshold: Int,
                       to deferred: inout [DeferredPayload]) throws {
        var emitter = PickleEmitter(deferringPayloadsFrom: threshold)
        emitter.writePickle(of: value, into: &buffer)
        deferred.append(contentsOf: emitter.deferredPayloads)
    }

    public var leavesOutLargePayloads: Bool { true }

    /// The short forms of ``PickleEmitter``: a str or bytes under 64 KiB, a short tuple of
    /// scalars, one scalar.
    public func encode(_ value: Value, ifItFits space: UnsafeMutableRawBufferPointer) -> Int? {
        PickleEmitter.putShortPickle(of: value, ifItFits: space)
    }

    /// Reads one pickle; bytes after its STOP opcode are ignored, as Python's `pickle.loads`
    /// ignores them.
    public func decode(_ buffer: inout ByteBuffer) throws -> Value {
        try PickleReader().readValue(&buffer)
    }

    public func decode(contentsOf bytes: UnsafeRawBufferPointer) throws -> Value {
        try PickleReader().readValue(prefixOf: bytes).value
    }
}
