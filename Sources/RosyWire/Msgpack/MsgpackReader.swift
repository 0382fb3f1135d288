import OrderedCollections

/// Reads one msgpack object from raw bytes, checking every length against what is left.
struct MsgpackReader {
    let bytes: UnsafeRawBufferPointer
    let maxDepth: Int
    var pos = 0

    init(bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    func error(_ message: String) -> CodecError { CodecError(codec: "msgpack", message) }

    @inline(__always) mutating func u8() throws -> UInt8 {
        guard pos < bytes.count else { throw error("truncated msgpack data") }
        defer { pos += 1 }
        return bytes[pos]
    }

    @inline(__always) mutating func be<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard bytes.count - pos >= MemoryLayout<T>.size else { throw error("truncated msgpack data") }
        defer { pos += MemoryLayout<T>.size }
        return T(bigEndian: bytes.loadUnaligned(fromByteOffset: pos, as: T.self))
    }

    mutating func raw(_ count: Int) throws -> UnsafeRawBufferPointer {
        guard count >= 0, bytes.count - pos >= count else {
            throw error("truncated msgpack data: \(count) bytes announced, \(bytes.count - pos) left")
        }
        defer { pos += count }
        return UnsafeRawBufferPointer(rebasing: bytes[pos..<(pos + count)])
    }

    mutating func string(_ count: Int) throws -> Value {
        guard let text = UTF8Text.decode(try raw(count)) else { throw error("str is not valid UTF-8") }
        return .string(text)
    }

    mutating func array(_ count: Int, depth: Int) throws -> Value {
        guard depth < maxDepth else { throw error("msgpack nests deeper than \(maxDepth) levels") }
        guard count <= bytes.count - pos else { throw error("truncated msgpack data: array of \(count) items") }
        var items: [Value] = []
        items.reserveCapacity(count)
        for _ in 0..<count { items.append(try read(depth: depth + 1)) }
        return .list(items)
    }

    mutating func map(_ count: Int, depth: Int) throws -> Value {
        guard depth < maxDepth else { throw error("msgpack nests deeper than \(maxDepth) levels") }
        guard count <= (bytes.count - pos) / 2 else { throw error("truncated msgpack data: map of \(count) entries") }
        var dict = OrderedDictionary<Value, Value>(minimumCapacity: count)
        for _ in 0..<count {
            let key = try read(depth: depth + 1)
            dict[key] = try read(depth: depth + 1)
        }
        return .dict(dict)
    }

    mutating func read(depth: Int) throws -> Value {
        let c = try u8()
        switch c {
        case 0x00...0x7F: return .int(Int64(c))
        case 0x80...0x8F: return try map(Int(c & 0x0F), depth: depth)
        case 0x90...0x9F: return try array(Int(c & 0x0F), depth: depth)
        case 0xA0...0xBF: return try string(Int(c & 0x1F))
        case 0xC0: return .none
        case 0xC2: return .bool(false)
        case 0xC3: return .bool(true)
        case 0xC4: return .bytes(Array(try raw(Int(try u8()))))
        case 0xC5: return .bytes(Array(try raw(Int(try be(UInt16.self)))))
        case 0xC6: return .bytes(Array(try raw(Int(try be(UInt32.self)))))
        case 0xC7, 0xC8, 0xC9, 0xD4...0xD8:
            throw error("ext type 0x\(String(c, radix: 16)) (e.g. a timestamp) has no rosy value")
        case 0xCA: return .double(Double(Float(bitPattern: try be(UInt32.self))))
        case 0xCB: return .double(Double(bitPattern: try be(UInt64.self)))
        case 0xCC: return .int(Int64(try u8()))
        case 0xCD: return .int(Int64(try be(UInt16.self)))
        case 0xCE: return .int(Int64(try be(UInt32.self)))
        case 0xCF:
            let v = try be(UInt64.self)
            guard v <= UInt64(Int64.max) else { throw error("integer does not fit in 64 bits") }
            return .int(Int64(v))
        case 0xD0: return .int(Int64(Int8(bitPattern: try u8())))
        case 0xD1: return .int(Int64(try be(Int16.self)))
        case 0xD2: return .int(Int64(try be(Int32.self)))
        case 0xD3: return .int(try be(Int64.self))
        case 0xD9: return try string(Int(try u8()))
        case 0xDA: return try string(Int(try be(UInt16.self)))
        case 0xDB: return try string(Int(try be(UInt32.self)))
        case 0xDC: return try array(Int(try be(UInt16.self)), depth: depth)
        case 0xDD: return try array(Int(try be(UInt32.self)), depth: depth)
        case 0xDE: return try map(Int(try be(UInt16.self)), depth: depth)
        case 0xDF: return try map(Int(try be(UInt32.self)), depth: depth)
        case 0xE0...0xFF: return .int(Int64(Int8(bitPattern: c)))
        default: throw error("invalid msgpack type byte 0xc1")
        }
    }
}
