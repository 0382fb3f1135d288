/// The shapes most messages have, read without the general machine: one scalar, or a
/// tuple of up to three scalars (as `rosy speedtest`'s `(time, payload)`), each as Python
/// writes it. Anything else (and anything malformed) returns nil and goes the general way,
/// which also produces the errors.
enum PickleFastPath {
    static func read(_ p: UnsafeRawBufferPointer) -> (value: Value, consumed: Int)? {
        let end = p.count
        var pos = 0
        guard end >= 2 else { return nil }
        if p[0] == PickleOpcode.proto {
            guard p[1] <= PickleOpcode.highestProtocol else { return nil }
            pos = 2
        }
        var items: (Value, Value, Value) = (.none, .none, .none)
        var count = 0
        while pos < end {
            let op = p[pos]
            switch op {
            case PickleOpcode.frame:
                // Python ends a frame before a large str or bytes and starts a new one after
                // it (`(time, 'A' * 1_000_000)` has two), so frames come between items too.
                guard end - pos >= 9 else { return nil }
                let length = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: pos + 1, as: UInt64.self))
                pos += 9
                guard length <= UInt64(end - pos) else { return nil }
                continue
            case PickleOpcode.stop:
                guard count == 1 else { return nil }
                return (items.0, pos + 1)
            case PickleOpcode.memoize:
                guard count > 0 else { return nil }
                pos += 1
                continue
            case PickleOpcode.tuple1, PickleOpcode.tuple2, PickleOpcode.tuple3:
                let n = Int(op - PickleOpcode.tuple1) + 1
                guard n == count else { return nil }
                pos += 1
                if pos < end, p[pos] == PickleOpcode.memoize { pos += 1 }
                guard pos < end, p[pos] == PickleOpcode.stop else { return nil }
                let tuple: [Value] = n == 1 ? [items.0] : n == 2 ? [items.0, items.1] : [items.0, items.1, items.2]
                return (.tuple(tuple), pos + 1)
            default:
                guard count < 3, let (value, next) = scalar(p, at: pos) else { return nil }
                switch count {
                case 0: items.0 = value
                case 1: items.1 = value
                default: items.2 = value
                }
                count += 1
                pos = next
            }
        }
        return nil
    }

    @inline(__always)
    static func scalar(_ p: UnsafeRawBufferPointer, at start: Int) -> (Value, Int)? {
        let end = p.count
        var pos = start + 1
        func fixed<T: FixedWidthInteger>(_ type: T.Type) -> T? {
            guard end - pos >= MemoryLayout<T>.size else { return nil }
            defer { pos += MemoryLayout<T>.size }
            return T(littleEndian: p.loadUnaligned(fromByteOffset: pos, as: T.self))
        }
        func text(_ count: Int) -> String? {
            guard end - pos >= count else { return nil }
            defer { pos += count }
            return UTF8Text.decode(UnsafeRawBufferPointer(rebasing: p[pos..<(pos + count)]))
        }
        func bytes(_ count: Int) -> [UInt8]? {
            guard end - pos >= count else { return nil }
            defer { pos += count }
            return Array(UnsafeRawBufferPointer(rebasing: p[pos..<(pos + count)]))
        }
        let value: Value
        switch p[start] {
        case PickleOpcode.none: value = .none
        case PickleOpcode.newTrue: value = .bool(true)
        case PickleOpcode.newFalse: value = .bool(false)
        case PickleOpcode.binInt1: guard let v = fixed(UInt8.self) else { return nil }; value = .int(Int64(v))
        case PickleOpcode.binInt2: guard let v = fixed(UInt16.self) else { return nil }; value = .int(Int64(v))
        case PickleOpcode.binInt: guard let v = fixed(Int32.self) else { return nil }; value = .int(Int64(v))
        case PickleOpcode.binFloat:
            guard let bits = fixed(UInt64.self) else { return nil }
            value = .double(Double(bitPattern: UInt64(bigEndian: bits.littleEndian)))
        case PickleOpcode.shortBinUnicode:
            guard let n = fixed(UInt8.self), let s = text(Int(n)) else { return nil }
            value = .string(s)
        case PickleOpcode.binUnicode:
            guard let n = fixed(UInt32.self), let s = text(Int(n)) else { return nil }
            value = .string(s)
        case PickleOpcode.shortBinBytes:
            guard let n = fixed(UInt8.self), let b = bytes(Int(n)) else { return nil }
            value = .bytes(b)
        case PickleOpcode.binBytes:
            guard let n = fixed(UInt32.self), let b = bytes(Int(n)) else { return nil }
            value = .bytes(b)
        default:
            return nil
        }
        return (value, pos)
    }
}
