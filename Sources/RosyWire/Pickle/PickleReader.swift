import NIOCore

/// Reads pickles (protocols 0 to 5) without running anything: plain data always, and the
/// object-building steps of the globals it is told to allow, as a ``PickleObject`` tree.
///
/// Any other global, and every opcode that would load or call code (`INST`, `OBJ`,
/// persistent ids, extension codes, out-of-band buffers), is a ``CodecError``. Python's own
/// pickles of sets and bytes in protocols 2 and 3 call `builtins.set`, `_codecs.encode` and
/// the like: the reader recognises those few and turns them into the data they stand for.
///
/// ```swift
/// // Plain data, as the pickle codec reads message data:
/// let value = try PickleReader().readValue(&buffer)
///
/// // A bag file record: (datetime.datetime, topic, args, kwargs)
/// let reader = PickleReader(allowedGlobals: [PickleGlobal("datetime", "datetime")])
/// let record = try reader.read(&buffer)            // .tuple([.reduce(...), .value("t"), ...])
/// if case .reduce(_, let args)? = record.elements?.first,
///    case .value(.bytes(let packed))? = args.first { /* 10 bytes: year, month, ... */ }
/// ```
///
/// See ``PickleObject`` for reading a rosy `MeshNodeSpec`.
public struct PickleReader: Sendable {
    /// The globals a pickle may name (besides the plain-data constructors).
    public var allowedGlobals: Set<PickleGlobal>
    /// The deepest nesting accepted; deeper (or recursive) data is an error.
    public var maxDepth: Int

    public init(allowedGlobals: Set<PickleGlobal> = [], maxDepth: Int = 1000) {
        self.allowedGlobals = allowedGlobals
        self.maxDepth = maxDepth
    }

    /// Reads one pickle from the buffer's readable bytes, up to and including its STOP
    /// opcode (the reader index moves past it; bytes after it are left for the next read).
    public func read(_ buffer: inout ByteBuffer) throws -> PickleObject {
        let (object, consumed) = try buffer.withUnsafeReadableBytes { bytes -> (PickleObject, Int) in
            var machine = PickleMachine(allowed: allowedGlobals, maxDepth: maxDepth)
            let (root, consumed) = try machine.run(bytes)
            machine.budget = machine.arena.count + 1_000_000
            return (try machine.object(of: root), consumed)
        }
        buffer.moveReaderIndex(forwardBy: consumed)
        return object
    }

    /// Reads one pickle from bytes.
    public func read(_ bytes: some Collection<UInt8>) throws -> PickleObject {
        var buffer = ByteBuffer(bytes: bytes)
        return try read(&buffer)
    }

    /// Reads one pickle of plain data: a global, object or integer beyond 64 bits in it is
    /// an error, even an allowed one.
    public func readValue(_ buffer: inout ByteBuffer) throws -> Value {
        let (value, consumed) = try buffer.withUnsafeReadableBytes { try readValue(prefixOf: $0) }
        buffer.moveReaderIndex(forwardBy: consumed)
        return value
    }

    /// Reads one pickle of plain data from the start of `bytes`: the value, and the bytes it
    /// took (up to and including its STOP opcode).
    public func readValue(prefixOf bytes: UnsafeRawBufferPointer) throws -> (value: Value, consumed: Int) {
        if let fast = PickleFastPath.read(bytes) { return fast }
        var machine = PickleMachine(allowed: nil, maxDepth: maxDepth)
        let (root, consumed) = try machine.run(bytes)
        machine.budget = machine.arena.count + 1_000_000
        return (try machine.value(of: root), consumed)
    }

    /// Reads one pickle of plain data from bytes.
    public func readValue(_ bytes: some Collection<UInt8>) throws -> Value {
        var buffer = ByteBuffer(bytes: bytes)
        return try readValue(&buffer)
    }
}
