
extension Value {
    /// The value as compact JSON text, for `topic echo --json`, MCAP message data and the
    /// Foxglove bridge.
    ///
    /// Unlike ``JSONCodec`` (which, as orjson, refuses what JSON cannot carry), this
    /// always writes something, so any message can be printed and recorded.
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
