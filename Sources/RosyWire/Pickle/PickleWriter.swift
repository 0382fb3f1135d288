import NIOCore

/// Writes pickles (protocol 5) as Python's `pickle.dumps` writes them: plain data, or a
/// ``PickleObject`` tree with globals (`STACK_GLOBAL`), `NEWOBJ`, `REDUCE`, `BUILD` and
/// integers of any size (`LONG1`/`LONG4`).
///
/// ```swift
/// var buffer = ByteBuffer()
/// PickleWriter().write(["hello", 42] as Value, into: &buffer)
///
/// // A uuid.UUID, as Python pickles one: NEWOBJ of uuid.UUID, then BUILD with its fields.
/// let uuid = PickleObject.instance(of: PickleGlobal("uuid", "UUID"), state: .dict([
///     "int": .integer(unsignedBigEndian: Array(repeating: 0xAB, count: 16)),
///     "is_safe": .reduce(callable: .global("uuid", "SafeUUID"), args: [nil]),
/// ]))
/// PickleWriter().write(uuid, into: &buffer)
/// ```
public struct PickleWriter: Sendable {
    public init() {}

    /// Appends a pickle of plain data.
    public func write(_ value: Value, into buffer: inout ByteBuffer) {
        var emitter = PickleEmitter()
        emitter.writePickle(of: value, into: &buffer)
    }

    /// Appends a pickle of an object tree.
    public func write(_ object: PickleObject, into buffer: inout ByteBuffer) {
        var emitter = PickleEmitter()
        emitter.writePickle(of: object, into: &buffer)
    }

    /// A pickle of plain data, as bytes.
    public func bytes(of value: Value) -> [UInt8] {
        var buffer = ByteBuffer()
        write(value, into: &buffer)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    /// A pickle of an object tree, as bytes.
    public func bytes(of object: PickleObject) -> [UInt8] {
        var buffer = ByteBuffer()
        write(object, into: &buffer)
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }
}
