/// A DNS message as mDNS uses it: just enough to read PTR, SRV, TXT, A and AAAA answers
/// and to write a PTR question. Parsing is defensive: every read is bounds-checked, name
/// compression pointers may only point backwards, and any malformation is a thrown
/// ``DNSFormatError``, never a crash.
struct DNSMessage: Sendable {
    var id: UInt16
    var isResponse: Bool
    var questions: [(name: String, type: UInt16)]
    /// Answers, authority and additional records together: mDNS treats them alike.
    var records: [DNSRecord]

    static let typeA: UInt16 = 1, typePTR: UInt16 = 12, typeTXT: UInt16 = 16
    static let typeAAAA: UInt16 = 28, typeSRV: UInt16 = 33

    /// A query (id 0, as mDNS does) for the `PTR` records of `name`, e.g. `_rosy-6b01bd89a8._tcp.local`.
    static func query(ptr name: String) -> [UInt8] {
        query([(name, typePTR)])
    }

    /// A query (id 0, QM: answers by multicast) with one question per name and type.
    static func query(_ questions: [(name: String, type: UInt16)]) -> [UInt8] {
        var out: [UInt8] = [0, 0, 0, 0, UInt8(questions.count >> 8), UInt8(questions.count & 0xFF), 0, 0, 0, 0, 0, 0]
        for (name, type) in questions {
            for label in name.split(separator: ".") {
                let bytes = Array(label.utf8.prefix(63))
                out.append(UInt8(bytes.count))
                out += bytes
            }
            out += [0, UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]  // root, type, class IN
        }
        return out
    }

    init(parsing bytes: [UInt8]) throws {
        var reader = DNSReader(bytes: bytes)
        id = try reader.u16()
        let flags = try reader.u16()
        isResponse = flags & 0x8000 != 0
        let counts = (try reader.u16(), try reader.u16(), try reader.u16(), try reader.u16())
        questions = []
        for _ in 0..<counts.0 {
            let name = try reader.name()
            let type = try reader.u16()
            _ = try reader.u16()
            questions.append((name, type))
        }
        records = []
        let total = Int(counts.1) + Int(counts.2) + Int(counts.3)
        for _ in 0..<total {
            records.append(try reader.record())
        }
    }
}

/// One resource record, with the data of the types rosy needs decoded.
struct DNSRecord: Sendable, Equatable {
    enum Data: Sendable, Equatable {
        case ptr(String)
        case srv(priority: UInt16, weight: UInt16, port: UInt16, target: String)
        /// The raw rdata: for rosy it is the gzip blob itself.
        case txt([UInt8])
        case a([UInt8])
        case aaaa([UInt8])
        case other(type: UInt16)
    }

    var name: String
    var ttl: UInt32
    var data: Data
}

struct DNSFormatError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

private struct DNSReader {
    let bytes: [UInt8]
    var offset = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func u8() throws -> UInt8 {
        guard offset < bytes.count else { throw DNSFormatError("truncated DNS packet") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws -> UInt16 {
        UInt16(try u8()) << 8 | UInt16(try u8())
    }

    mutating func u32() throws -> UInt32 {
        UInt32(try u16()) << 16 | UInt32(try u16())
    }

    mutating func take(_ count: Int) throws -> [UInt8] {
        guard count >= 0, offset + count <= bytes.count else { throw DNSFormatError("truncated DNS packet") }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    /// A domain name at the current offset, following compression pointers (backwards only).
    mutating func name() throws -> String {
        var labels: [String] = []
        var position = offset
        var jumped = false
        var jumps = 0
        var length = 0
        while true {
            guard position < bytes.count else { throw DNSFormatError("truncated DNS name") }
            let byte = bytes[position]
            if byte & 0xC0 == 0xC0 {
                guard position + 1 < bytes.count else { throw DNSFormatError("truncated DNS name pointer") }
                let target = Int(byte & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < position, jumps < 64 else { throw DNSFormatError("bad DNS name pointer") }
                if !jumped { offset = position + 2 }
                jumped = true
                jumps += 1
                position = target
            } else if byte & 0xC0 != 0 {
                throw DNSFormatError("unknown DNS label type")
            } else if byte == 0 {
                if !jumped { offset = position + 1 }
                return labels.joined(separator: ".")
            } else {
                let end = position + 1 + Int(byte)
                guard end <= bytes.count else { throw DNSFormatError("truncated DNS label") }
                length += Int(byte) + 1
                guard length <= 255 else { throw DNSFormatError("DNS name too long") }
                labels.append(String(decoding: bytes[(position + 1)..<end], as: UTF8.self))
                position = end
            }
        }
    }

    mutating func record() throws -> DNSRecord {
        let name = try name()
        let type = try u16()
        _ = try u16()  // class (with the mDNS cache-flush bit)
        let ttl = try u32()
        let length = Int(try u16())
        let start = offset
        guard start + length <= bytes.count else { throw DNSFormatError("truncated DNS record") }
        let data: DNSRecord.Data
        switch type {
        case DNSMessage.typePTR:
            data = .ptr(try self.name())
        case DNSMessage.typeSRV:
            data = .srv(priority: try u16(), weight: try u16(), port: try u16(), target: try self.name())
        case DNSMessage.typeTXT:
            data = .txt(try take(length))
        case DNSMessage.typeA:
            guard length == 4 else { throw DNSFormatError("A record of \(length) bytes") }
            data = .a(try take(4))
        case DNSMessage.typeAAAA:
            guard length == 16 else { throw DNSFormatError("AAAA record of \(length) bytes") }
            data = .aaaa(try take(16))
        default:
            data = .other(type: type)
        }
        guard offset <= start + length else { throw DNSFormatError("DNS record overruns its length") }
        offset = start + length
        return DNSRecord(name: name, ttl: ttl, data: data)
    }
}
