import NIOCore

/// Writes msgpack byte for byte as msgpack-python's `packb` does with default options.
enum MsgpackWriter {
    static func write(_ value: Value, into buffer: inout ByteBuffer) throws {
        switch value {
        case .none: buffer.writeInteger(UInt8(0xC0))
        case .bool(let b): buffer.writeInteger(b ? UInt8(0xC3) : UInt8(0xC2))
        case .int(let i): writeInt(i, &buffer)
        case .double(let d):
            buffer.writeRaw(maximum: 9) { p in
                p.put(UInt8(0xCB), at: 0); p.put(d.bitPattern.bigEndian, at: 1); return 9
            }
        case .string(let s):
            writeHeader(count: s.utf8.count, fix: 0xA0, fixLimit: 32, b8: 0xD9, b16: 0xDA, b32: 0xDB, &buffer)
            buffer.writeString(s)
        case .bytes(let b):
            writeHeader(count: b.count, fix: nil, fixLimit: 0, b8: 0xC4, b16: 0xC5, b32: 0xC6, &buffer)
            buffer.writeBytes(b)
        case .list(let items), .tuple(let items):
            writeHeader(count: items.count, fix: 0x90, fixLimit: 16, b8: nil, b16: 0xDC, b32: 0xDD, &buffer)
            for item in items { try write(item, into: &buffer) }
        case .dict(let dict):
            writeHeader(count: dict.count, fix: 0x80, fixLimit: 16, b8: nil, b16: 0xDE, b32: 0xDF, &buffer)
            for (key, item) in dict {
                try write(key, into: &buffer)
                try write(item, into: &buffer)
            }
        case .set:
            throw CodecError(codec: "msgpack", "a set cannot be written as msgpack (msgpack-python refuses it too); send a list")
        }
    }

    @inline(__always)
    static func writeInt(_ i: Int64, _ buffer: inout ByteBuffer) {
        buffer.writeRaw(maximum: 9) { p in
            if i >= 0 {
                if i < 0x80 {
                    p.put(UInt8(i), at: 0); return 1
                } else if i < 0x100 {
                    p.put(UInt8(0xCC), at: 0); p.put(UInt8(i), at: 1); return 2
                } else if i < 0x1_0000 {
                    p.put(UInt8(0xCD), at: 0); p.put(UInt16(i).bigEndian, at: 1); return 3
                } else if i < 0x1_0000_0000 {
                    p.put(UInt8(0xCE), at: 0); p.put(UInt32(i).bigEndian, at: 1); return 5
                } else {
                    p.put(UInt8(0xCF), at: 0); p.put(UInt64(i).bigEndian, at: 1); return 9
                }
            } else {
                if i >= -32 {
                    p.put(Int8(i), at: 0); return 1
                } else if i >= -0x80 {
                    p.put(UInt8(0xD0), at: 0); p.put(Int8(i), at: 1); return 2
                } else if i >= -0x8000 {
                    p.put(UInt8(0xD1), at: 0); p.put(Int16(i).bigEndian, at: 1); return 3
                } else if i >= -0x8000_0000 {
                    p.put(UInt8(0xD2), at: 0); p.put(Int32(i).bigEndian, at: 1); return 5
                } else {
                    p.put(UInt8(0xD3), at: 0); p.put(i.bigEndian, at: 1); return 9
                }
            }
        }
    }

    @inline(__always)
    static func writeHeader(count: Int, fix: UInt8?, fixLimit: Int, b8: UInt8?, b16: UInt8, b32: UInt8, _ buffer: inout ByteBuffer) {
        if let fix, count < fixLimit {
            buffer.writeInteger(fix | UInt8(count))
        } else if let b8, count < 0x100 {
            buffer.writeInteger(b8); buffer.writeInteger(UInt8(count))
        } else if count < 0x1_0000 {
            buffer.writeInteger(b16); buffer.writeInteger(UInt16(count), endianness: .big)
        } else {
            buffer.writeInteger(b32); buffer.writeInteger(UInt32(truncatingIfNeeded: count), endianness: .big)
        }
    }
}
