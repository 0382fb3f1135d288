import OrderedCollections
import RosyWire

extension Value {
    /// The value as compact JSON text, for `topic echo --json` and MCAP message data.
    ///
    /// JSON has fewer types than Python, so some values change on the way:
    /// tuples and sets become arrays, bytes become base64 strings, NaN and infinities
    /// become `null`, and a dict key that is not a string becomes its Python repr
    /// (`{1: 'a'}` is `{"1":"a"}`).
    ///
    /// ```swift
    /// Value.dict(["key": [1, 2]]).jsonText   // {"key":[1,2]}
    /// ```
    public var jsonText: String {
        var out = ""
        writeJSON(into: &out)
        return out
    }

    func writeJSON(into out: inout String) {
        switch self {
        case .none: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += d.isFinite ? pythonFloatRepr(d) : "null"
        case .string(let s): writeJSONString(s, into: &out)
        case .bytes(let b): writeJSONString(base64(b), into: &out)
        case .list(let items), .tuple(let items): writeJSONArray(items, into: &out)
        case .set(let items): writeJSONArray(Array(items), into: &out)
        case .dict(let dict):
            out += "{"
            var first = true
            for (key, value) in dict {
                if !first { out += "," }
                first = false
                writeJSONString(key.stringValue ?? key.pythonRepr, into: &out)
                out += ":"
                value.writeJSON(into: &out)
            }
            out += "}"
        }
    }

    private func writeJSONArray(_ items: [Value], into out: inout String) {
        out += "["
        for (i, item) in items.enumerated() {
            if i > 0 { out += "," }
            item.writeJSON(into: &out)
        }
        out += "]"
    }
}

func writeJSONString(_ s: String, into out: inout String) {
    out += "\""
    for c in s.unicodeScalars {
        switch c {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case "\u{08}": out += "\\b"
        case "\u{0C}": out += "\\f"
        default:
            if c.value < 0x20 {
                let digits = String(c.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
            } else {
                out.unicodeScalars.append(c)
            }
        }
    }
    out += "\""
}

private let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".unicodeScalars)

func base64(_ bytes: [UInt8]) -> String {
    var out = String.UnicodeScalarView()
    var i = 0
    while i < bytes.count {
        let b0 = UInt32(bytes[i])
        let b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
        let b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
        let n = b0 << 16 | b1 << 8 | b2
        out.append(base64Alphabet[Int(n >> 18 & 63)])
        out.append(base64Alphabet[Int(n >> 12 & 63)])
        out.append(i + 1 < bytes.count ? base64Alphabet[Int(n >> 6 & 63)] : "=")
        out.append(i + 2 < bytes.count ? base64Alphabet[Int(n & 63)] : "=")
        i += 3
    }
    return String(out)
}

/// Reads JSON text into a ``Value``: objects become dicts (in their order), arrays lists,
/// whole numbers that fit in 64 bits ints, other numbers doubles.
struct JSONReader {
    private let bytes: [UInt8]
    private var position = 0
    private var depth = 0

    /// Parses one JSON document; throws ``JSONReader/Failure`` with the byte offset of a problem.
    static func parse(_ bytes: [UInt8]) throws(Failure) -> Value {
        var reader = JSONReader(bytes: bytes)
        reader.skipWhitespace()
        let value = try reader.parseValue()
        reader.skipWhitespace()
        guard reader.position == bytes.count else { throw reader.failure("unexpected text after the JSON value") }
        return value
    }

    struct Failure: Error, CustomStringConvertible {
        var offset: Int
        var reason: String
        var description: String { "invalid JSON at byte \(offset): \(reason)" }
    }

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private func failure(_ reason: String) -> Failure { Failure(offset: position, reason: reason) }

    private var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while let c = peek, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { position += 1 }
    }

    private mutating func expect(_ word: String) throws(Failure) {
        for b in word.utf8 {
            guard peek == b else { throw failure("expected '\(word)'") }
            position += 1
        }
    }

    private mutating func parseValue() throws(Failure) -> Value {
        guard let c = peek else { throw failure("unexpected end of the JSON text") }
        switch c {
        case UInt8(ascii: "{"):
            depth += 1
            guard depth < 512 else { throw failure("nested too deep") }
            defer { depth -= 1 }
            position += 1
            var dict = OrderedDictionary<Value, Value>()
            skipWhitespace()
            if peek == UInt8(ascii: "}") { position += 1; return .dict(dict) }
            while true {
                skipWhitespace()
                guard peek == UInt8(ascii: "\"") else { throw failure("expected a string key") }
                let key = try parseString()
                skipWhitespace()
                try expect(":")
                skipWhitespace()
                dict[.string(key)] = try parseValue()
                skipWhitespace()
                if peek == UInt8(ascii: ",") { position += 1; continue }
                try expect("}")
                return .dict(dict)
            }
        case UInt8(ascii: "["):
            depth += 1
            guard depth < 512 else { throw failure("nested too deep") }
            defer { depth -= 1 }
            position += 1
            var items: [Value] = []
            skipWhitespace()
            if peek == UInt8(ascii: "]") { position += 1; return .list(items) }
            while true {
                skipWhitespace()
                items.append(try parseValue())
                skipWhitespace()
                if peek == UInt8(ascii: ",") { position += 1; continue }
                try expect("]")
                return .list(items)
            }
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .none
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw failure("unexpected character")
        }
    }

    private mutating func parseNumber() throws(Failure) -> Value {
        let start = position
        var isFloat = false
        while let c = peek {
            if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { isFloat = true }
            else if !(c == UInt8(ascii: "-") || c == UInt8(ascii: "+") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c)) { break }
            position += 1
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if !isFloat, let i = Int64(text) { return .int(i) }
        guard let d = Double(text) else { position = start; throw failure("invalid number") }
        return .double(d)
    }

    private mutating func parseString() throws(Failure) -> String {
        position += 1
        var out: [UInt8] = []
        while true {
            guard let c = peek else { throw failure("unterminated string") }
            position += 1
            switch c {
            case UInt8(ascii: "\""):
                return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard let e = peek else { throw failure("unterminated escape") }
                position += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var code = try parseHex4()
                    if (0xD800..<0xDC00).contains(code), peek == UInt8(ascii: "\\"),
                       position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u") {
                        position += 2
                        let low = try parseHex4()
                        if (0xDC00..<0xE000).contains(low) { code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00) }
                    }
                    out.append(contentsOf: Array(String(Unicode.Scalar(code) ?? "\u{FFFD}").utf8))
                default: throw failure("invalid escape")
                }
            default:
                if c < 0x20 { throw failure("control character in a string") }
                out.append(c)
            }
        }
    }

    private mutating func parseHex4() throws(Failure) -> UInt32 {
        guard position + 4 <= bytes.count,
              let v = UInt32(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16)
        else { throw failure("invalid \\u escape") }
        position += 4
        return v
    }
}
