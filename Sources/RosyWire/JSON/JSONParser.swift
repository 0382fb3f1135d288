import OrderedCollections

/// A strict JSON (RFC 8259) reader, as orjson's `loads`: UTF-8 only, no NaN or comments,
/// integers within 64 bits (beyond is an error here), objects keep their key order with the
/// last of duplicate keys winning.
struct JSONParser {
    let bytes: UnsafeRawBufferPointer
    let maxDepth: Int
    var pos = 0

    init(bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    mutating func parseDocument() throws -> Value {
        skipSpace()
        let value = try parseValue(depth: 0)
        skipSpace()
        guard pos == bytes.count else { throw error("unexpected data after the JSON value") }
        return value
    }

    func error(_ message: String) -> CodecError {
        CodecError(codec: "json", "\(message) (at byte \(pos))")
    }

    @inline(__always) mutating func skipSpace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    mutating func parseValue(depth: Int) throws -> Value {
        guard pos < bytes.count else { throw error("unexpected end of JSON") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
        case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .none
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected character in JSON")
        }
    }

    mutating func literal(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard bytes.count - pos >= count,
              UnsafeRawBufferPointer(rebasing: bytes[pos..<(pos + count)]).elementsEqual(UnsafeBufferPointer(start: word.utf8Start, count: count))
        else { throw error("invalid literal in JSON") }
        pos += count
    }

    mutating func parseArray(depth: Int) throws -> Value {
        guard depth <= maxDepth else { throw error("JSON nests deeper than \(maxDepth) levels") }
        pos += 1  // [
        var items: [Value] = []
        skipSpace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") {
            pos += 1
            return .list(items)
        }
        while true {
            skipSpace()
            items.append(try parseValue(depth: depth))
            skipSpace()
            guard pos < bytes.count else { throw error("unexpected end of JSON in an array") }
            let c = bytes[pos]
            pos += 1
            if c == UInt8(ascii: "]") { return .list(items) }
            guard c == UInt8(ascii: ",") else { throw error("expected ',' or ']' in an array") }
        }
    }

    mutating func parseObject(depth: Int) throws -> Value {
        guard depth <= maxDepth else { throw error("JSON nests deeper than \(maxDepth) levels") }
        pos += 1  // {
        var dict = OrderedDictionary<Value, Value>()
        skipSpace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") {
            pos += 1
            return .dict(dict)
        }
        while true {
            skipSpace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw error("expected a string key in an object") }
            let key = try parseString()
            skipSpace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw error("expected ':' in an object") }
            pos += 1
            skipSpace()
            dict[.string(key)] = try parseValue(depth: depth)
            skipSpace()
            guard pos < bytes.count else { throw error("unexpected end of JSON in an object") }
            let c = bytes[pos]
            pos += 1
            if c == UInt8(ascii: "}") { return .dict(dict) }
            guard c == UInt8(ascii: ",") else { throw error("expected ',' or '}' in an object") }
        }
    }

    mutating func parseString() throws -> String {
        pos += 1  // opening quote
        let start = pos
        // Fast path: no escapes.
        while pos < bytes.count {
            if bytes.count - pos >= 8, !JSONBytes.mayNeedEscape(bytes.loadUnaligned(fromByteOffset: pos, as: UInt64.self)) {
                pos += 8
                continue
            }
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") {
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<pos])
                pos += 1
                guard let text = UTF8Text.decode(raw) else { throw error("string is not valid UTF-8") }
                return text
            }
            if c == UInt8(ascii: "\\") { break }
            guard c >= 0x20 else { throw error("control character in a string") }
            pos += 1
        }
        var out = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<pos]))
        while pos < bytes.count {
            let c = bytes[pos]
            pos += 1
            switch c {
            case UInt8(ascii: "\""):
                guard let text = out.withUnsafeBytes({ UTF8Text.decode($0) }) else { throw error("string is not valid UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                guard pos < bytes.count else { break }
                let e = bytes[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var code = UInt32(try hex4())
                    if (0xD800..<0xDC00).contains(code) {
                        guard bytes.count - pos >= 2, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                            throw error("lone surrogate in a string")
                        }
                        pos += 2
                        let low = UInt32(try hex4())
                        guard (0xDC00..<0xE000).contains(low) else { throw error("lone surrogate in a string") }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(code) {
                        throw error("lone surrogate in a string")
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
                    out.append(contentsOf: String(Character(scalar)).utf8)
                default: throw error("invalid escape in a string")
                }
            default:
                guard c >= 0x20 else { throw error("control character in a string") }
                out.append(c)
            }
        }
        throw error("unterminated string")
    }

    mutating func hex4() throws -> UInt16 {
        guard bytes.count - pos >= 4 else { throw error("truncated \\u escape") }
        var v: UInt16 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            pos += 1
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape")
            }
            v = v << 4 | UInt16(d)
        }
        return v
    }

    mutating func parseNumber() throws -> Value {
        let start = pos
        var negative = false
        if bytes[pos] == UInt8(ascii: "-") { negative = true; pos += 1 }
        func digit() -> Bool { pos < bytes.count && (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[pos]) }
        guard digit() else { throw error("invalid number") }
        if bytes[pos] == UInt8(ascii: "0") {
            pos += 1
            if digit() { throw error("leading zero in a number") }
        } else {
            while digit() { pos += 1 }
        }
        var isInteger = true
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            isInteger = false
            pos += 1
            guard digit() else { throw error("invalid number") }
            while digit() { pos += 1 }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            isInteger = false
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            guard digit() else { throw error("invalid number") }
            while digit() { pos += 1 }
        }
        let text = UnsafeRawBufferPointer(rebasing: bytes[start..<pos])
        if isInteger {
            // Accumulate negatively so that Int64.min fits.
            var value: Int64 = 0
            for c in text.dropFirst(negative ? 1 : 0) {
                let (m, o1) = value.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.subtractingReportingOverflow(Int64(c - UInt8(ascii: "0")))
                guard !o1, !o2 else { throw error("integer does not fit in 64 bits") }
                value = s
            }
            if negative { return .int(value) }
            guard value != Int64.min else { throw error("integer does not fit in 64 bits") }
            return .int(-value)
        }
        guard let double = Double(String(decoding: text, as: UTF8.self)), double.isFinite else {
            throw error("number is infinity when parsed as double")
        }
        return .double(double)
    }
}
