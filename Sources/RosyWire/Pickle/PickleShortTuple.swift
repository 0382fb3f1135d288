import NIOCore

/// A whole pickle of a short tuple of scalars in one buffer access: `None`, bool, int (32-bit
/// range), float, and str or bytes of a few KiB, such as a speedtest message `(time, 'A' *
/// size)` or a pose `(x, y, z)`; or of one such scalar other than str or bytes. The bytes
/// are exactly those of the general path (and of Python's `pickle.dumps(obj, 5)`); anything
/// else is left to the general path.
enum PickleShortTuple {
    /// Longer tuples take the general path.
    static let maximumItems = 8
    /// Tuples whose pickle is larger take the general path (it frames long payloads apart).
    static let maximumBody = 16 * 1024

    /// The size of the pickle of `.tuple(items)`; nil when it does not qualify.
    @inline(__always)
    static func size(ofTuple items: [Value]) -> Int? {
        bodySize(items).map { 2 + PickleOpcode.frameHeaderSize + $0 }
    }

    /// Puts the pickle of `.tuple(items)` at the start of `p` (which holds
    /// ``size(ofTuple:)`` bytes at least); returns its size.
    @inline(__always)
    static func put(tuple items: [Value], into p: UnsafeMutableRawBufferPointer) -> Int {
        p.put(PickleOpcode.proto, at: 0)
        p.put(PickleOpcode.highestProtocol, at: 1)
        p.put(PickleOpcode.frame, at: 2)
        var at = 2 + PickleOpcode.frameHeaderSize
        if items.count > 3 { p.put(PickleOpcode.mark, at: at); at += 1 }
        for item in items { at = put(item, into: p, at: at) }
        switch items.count {
        case 1: p.put(PickleOpcode.tuple1, at: at)
        case 2: p.put(PickleOpcode.tuple2, at: at)
        case 3: p.put(PickleOpcode.tuple3, at: at)
        default: p.put(PickleOpcode.tuple, at: at)
        }
        p.put(PickleOpcode.memoize, at: at + 1)
        p.put(PickleOpcode.stop, at: at + 2)
        let total = at + 3
        p.put(UInt64(total - 2 - PickleOpcode.frameHeaderSize).littleEndian, at: 3)
        return total
    }

    /// The size of the pickle of one scalar: `None`, bool, int in the 32-bit range or float
    /// (a service call's usual argument or result); nil for anything else.
    @inline(__always)
    static func size(ofScalar value: Value) -> Int? {
        guard let item = scalarSize(value) else { return nil }
        let body = item + 1  // and STOP
        return 2 + (body >= PickleOpcode.frameSizeMin ? PickleOpcode.frameHeaderSize : 0) + body
    }

    /// Puts the pickle of one scalar at the start of `p` (which holds ``size(ofScalar:)``
    /// bytes at least); returns its size. As CPython, a body under 4 bytes (`None`, a bool,
    /// an int under 256) has no FRAME.
    @inline(__always)
    static func put(scalar value: Value, into p: UnsafeMutableRawBufferPointer) -> Int {
        let body = (scalarSize(value) ?? 0) + 1
        p.put(PickleOpcode.proto, at: 0)
        p.put(PickleOpcode.highestProtocol, at: 1)
        var at = 2
        if body >= PickleOpcode.frameSizeMin {
            p.put(PickleOpcode.frame, at: 2)
            p.put(UInt64(body).littleEndian, at: 3)
            at += PickleOpcode.frameHeaderSize
        }
        at = put(value, into: p, at: at)
        p.put(PickleOpcode.stop, at: at)
        return at + 1
    }

    /// The size of the frame's body (items, tuple opcode, MEMOIZE, STOP), or nil when the
    /// tuple does not qualify: an item of another kind, an int beyond 32 bits, or a repeated
    /// one-character or empty str/bytes (CPython shares those, so the general path writes
    /// the repeat as a memo reference).
    private static func bodySize(_ items: [Value]) -> Int? {
        guard items.count >= 1, items.count <= maximumItems else { return nil }
        var size = items.count > 3 ? 4 : 3
        for (index, item) in items.enumerated() {
            switch item {
            case .none, .bool, .int, .double:
                guard let scalar = scalarSize(item) else { return nil }
                size += scalar
            case .string(let s):
                let count = s.utf8.count
                size += (count < 0x100 ? 2 : 5) + count + 1
            case .bytes(let b):
                size += (b.count < 0x100 ? 2 : 5) + b.count + 1
            default:
                return nil
            }
            if size > maximumBody { return nil }
            if let key = PickleEmitter.singletonKey(of: item) {
                for earlier in items[..<index] where PickleEmitter.singletonKey(of: earlier) == key { return nil }
            }
        }
        return size
    }

    /// The bytes `put` writes for `None`, a bool, an int in the 32-bit range or a float; nil
    /// for anything else.
    @inline(__always)
    private static func scalarSize(_ value: Value) -> Int? {
        switch value {
        case .none, .bool: return 1
        case .int(let v):
            guard v >= Int64(Int32.min), v <= Int64(Int32.max) else { return nil }
            return v >= 0 && v < 0x100 ? 2 : v >= 0 && v < 0x1_0000 ? 3 : 5
        case .double: return 9
        default: return nil
        }
    }

    /// Writes one item at `at`; returns where the next goes.
    @inline(__always)
    private static func put(_ item: Value, into p: UnsafeMutableRawBufferPointer, at: Int) -> Int {
        switch item {
        case .none:
            p.put(PickleOpcode.none, at: at)
            return at + 1
        case .bool(let b):
            p.put(b ? PickleOpcode.newTrue : PickleOpcode.newFalse, at: at)
            return at + 1
        case .int(let v):
            if v >= 0 && v < 0x100 {
                p.put(PickleOpcode.binInt1, at: at); p.put(UInt8(v), at: at + 1); return at + 2
            } else if v >= 0 && v < 0x1_0000 {
                p.put(PickleOpcode.binInt2, at: at); p.put(UInt16(v).littleEndian, at: at + 1); return at + 3
            }
            p.put(PickleOpcode.binInt, at: at); p.put(Int32(truncatingIfNeeded: v).littleEndian, at: at + 1)
            return at + 5
        case .double(let d):
            p.put(PickleOpcode.binFloat, at: at); p.put(d.bitPattern.bigEndian, at: at + 1)
            return at + 9
        case .string(let s):
            var s = s
            return s.withUTF8 { putPayload(UnsafeRawBufferPointer($0), short: PickleOpcode.shortBinUnicode, long: PickleOpcode.binUnicode, into: p, at: at) }
        case .bytes(let b):
            return b.withUnsafeBytes { putPayload($0, short: PickleOpcode.shortBinBytes, long: PickleOpcode.binBytes, into: p, at: at) }
        default:
            return at  // never: bodySize refused it
        }
    }

    /// A str or bytes payload with its opcode and length, then MEMOIZE.
    @inline(__always)
    private static func putPayload(_ payload: UnsafeRawBufferPointer, short: UInt8, long: UInt8, into p: UnsafeMutableRawBufferPointer, at: Int) -> Int {
        let count = payload.count
        var at = at
        if count < 0x100 {
            p.put(short, at: at); p.put(UInt8(count), at: at + 1); at += 2
        } else {
            p.put(long, at: at); p.put(UInt32(count).littleEndian, at: at + 1); at += 5
        }
        if count > 0, let source = payload.baseAddress, let target = p.baseAddress {
            (target + at).copyMemory(from: source, byteCount: count)
        }
        at += count
        p.put(PickleOpcode.memoize, at: at)
        return at + 1
    }
}
