import NIOCore

/// Turns message data into bytes and back: one "data item" of the rosy wire format.
///
/// A node uses one codec for everything it sends and receives; both ends must agree.
/// rosy ships ``PickleCodec`` (the default, as Python rosy), ``JSONCodec`` and ``MsgpackCodec``;
/// conform your own type to use another encoding:
///
/// ```swift
/// struct MyCodec: MessageCodec {
///     let name = "my"
///     func encode(_ value: Value, into buffer: inout ByteBuffer) throws { ... }
///     func decode(_ buffer: inout ByteBuffer) throws -> Value { ... }
/// }
/// ```
public protocol MessageCodec: Sendable {
    /// A short name, as used on the command line (`pickle`, `json`, `msgpack`).
    var name: String { get }
    /// Appends the encoding of `value` to `buffer`.
    func encode(_ value: Value, into buffer: inout ByteBuffer) throws
    /// Decodes one value from `buffer`, which holds exactly one data item's bytes.
    /// Throws ``CodecError`` for malformed or unsupported data; never traps.
    func decode(_ buffer: inout ByteBuffer) throws -> Value
    /// Decodes one value from `bytes`, which hold exactly one data item, as
    /// ``decode(_:)`` does: for data that is not in a `ByteBuffer` (a frame read straight
    /// from a shared-memory lane). Optional: the default copies the bytes into a buffer.
    func decode(contentsOf bytes: UnsafeRawBufferPointer) throws -> Value
    /// Puts `value`'s encoding at the start of `space` and returns its size, if the codec
    /// has a direct way for this value and it fits; else nil (nothing written), and
    /// ``encode(_:into:)`` runs. A frame then writes a small data item and its length in one
    /// buffer access. Optional: the default answers nil.
    func encode(_ value: Value, ifItFits space: UnsafeMutableRawBufferPointer) -> Int?
    /// Appends the encoding of `value` to `buffer` as ``encode(_:into:)`` does, but may leave
    /// out str and bytes payloads of `threshold` bytes or more: each one left out is added
    /// to `deferred` with the buffer index where it belongs, and whoever writes the whole
    /// puts it there (``GatheredFrame``: a large payload is then copied once, straight into
    /// a shared-memory lane). Optional: the default leaves nothing out.
    func encode(_ value: Value, into buffer: inout ByteBuffer, deferringPayloadsFrom threshold: Int,
                to deferred: inout [DeferredPayload]) throws
    /// Whether ``encode(_:into:deferringPayloadsFrom:to:)`` may leave payloads out (a node
    /// then gathers its large messages; otherwise it encodes them into a buffer sized for
    /// them). Optional: the default says no.
    var leavesOutLargePayloads: Bool { get }
}

extension MessageCodec {
    public func encode(_ value: Value, ifItFits space: UnsafeMutableRawBufferPointer) -> Int? { nil }

    public func encode(_ value: Value, into buffer: inout ByteBuffer, deferringPayloadsFrom threshold: Int,
                       to deferred: inout [DeferredPayload]) throws {
        try encode(value, into: &buffer)
    }

    public var leavesOutLargePayloads: Bool { false }

    public func decode(contentsOf bytes: UnsafeRawBufferPointer) throws -> Value {
        var buffer = ByteBuffer(bytes: bytes)
        return try decode(&buffer)
    }
}

/// Why a value could not be encoded or decoded.
public struct CodecError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The codec that failed (`pickle`, `json`, `msgpack`, ...).
    public var codec: String
    /// What went wrong, in words a log line can show.
    public var message: String

    public init(codec: String, _ message: String) {
        self.codec = codec
        self.message = message
    }

    public var description: String { "\(codec) codec: \(message)" }
}
