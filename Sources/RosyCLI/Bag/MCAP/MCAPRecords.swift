/// The building blocks of an MCAP file (https://mcap.dev/spec): magic, record opcodes,
/// and little-endian encoding of the field types.

/// `0x89 M C A P 0 \r \n`, at the start and the end of every MCAP file.
let mcapMagic: [UInt8] = [0x89, 0x4D, 0x43, 0x41, 0x50, 0x30, 0x0D, 0x0A]

/// The record types this package writes or reads.
enum MCAPOpcode: UInt8 {
    case header = 0x01
    case footer = 0x02
    case schema = 0x03
    case channel = 0x04
    case message = 0x05
    case chunk = 0x06
    case messageIndex = 0x07
    case chunkIndex = 0x08
    case attachment = 0x09
    case attachmentIndex = 0x0A
    case statistics = 0x0B
    case metadata = 0x0C
    case metadataIndex = 0x0D
    case summaryOffset = 0x0E
    case dataEnd = 0x0F
}

/// Appends MCAP field encodings to a byte array.
struct MCAPEncoder {
    private(set) var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { append(v) }
    mutating func u32(_ v: UInt32) { append(v) }
    mutating func u64(_ v: UInt64) { append(v) }
    mutating func raw(_ v: [UInt8]) { bytes += v }

    /// uint32 length + UTF-8.
    mutating func string(_ s: String) {
        u32(UInt32(s.utf8.count))
        bytes += s.utf8
    }

    /// uint32 length + bytes.
    mutating func prefixedBytes(_ b: [UInt8]) {
        u32(UInt32(b.count))
        bytes += b
    }

    /// A record: opcode, uint64 content length, content.
    mutating func record(_ opcode: MCAPOpcode, _ content: (inout MCAPEncoder) -> Void) {
        var body = MCAPEncoder()
        content(&body)
        u8(opcode.rawValue)
        u64(UInt64(body.bytes.count))
        bytes += body.bytes
    }

    private mutating func append<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.littleEndian) { bytes += $0 }
    }
}

/// Why an MCAP file could not be read.
struct MCAPError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Reads MCAP field encodings from a byte slice; every read is bounds-checked.
struct MCAPDecoder {
    let bytes: ArraySlice<UInt8>
    private(set) var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.position = bytes.startIndex
    }

    var remaining: Int { bytes.endIndex - position }
    var isAtEnd: Bool { position >= bytes.endIndex }

    mutating func u8() throws -> UInt8 { try integer() }
    mutating func u16() throws -> UInt16 { try integer() }
    mutating func u32() throws -> UInt32 { try integer() }
    mutating func u64() throws -> UInt64 { try integer() }

    /// A uint64 length, as an Int that fits in what is left.
    mutating func length() throws -> Int {
        guard let n = Int(exactly: try u64()), n <= remaining else { throw MCAPError("a length runs past the end of its record") }
        return n
    }

    mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw MCAPError("a field runs past the end of its record") }
        defer { position += count }
        return bytes[position..<position + count]
    }

    mutating func string() throws -> String {
        String(decoding: try take(Int(try u32())), as: UTF8.self)
    }

    mutating func prefixedBytes() throws -> ArraySlice<UInt8> {
        try take(Int(try u32()))
    }

    /// `Map<string, string>`: uint32 byte length, then key/value strings.
    mutating func stringMap() throws -> [(String, String)] {
        var inner = MCAPDecoder(try take(Int(try u32())))
        var pairs: [(String, String)] = []
        while !inner.isAtEnd { pairs.append((try inner.string(), try inner.string())) }
        return pairs
    }

    private mutating func integer<T: FixedWidthInteger>() throws -> T {
        let size = MemoryLayout<T>.size
        let slice = try take(size)
        var v: T = 0
        for (i, byte) in slice.enumerated() { v |= T(byte) << (8 * i) }
        return v
    }
}
