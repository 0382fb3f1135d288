import NIOCore

/// Writes JSON byte for byte as orjson's `dumps` does (default options).
enum JSONWriter {
    static func write(_ value: Value, into buffer: inout ByteBuffer) throws {
        switch value {
        case .none: buffer.writeStaticString("null")
        case .bool(let b): buffer.writeStaticString(b ? "true" : "false")
        case .int(let i): writeInteger(i, &buffer)
        case .double(let d): writeDouble(d, &buffer)
        case .string(let s): writeString(s, &buffer)
        case .bytes: throw error("bytes cannot be written as JSON (orjson refuses them too)")
        case .set: throw error("a set cannot be written as JSON (orjson refuses it too); send a list")
        case .list(let items), .tuple(let items):
            buffer.writeInteger(UInt8(ascii: "["))
            var first = true
            for item in items {
                if !first { buffer.writeInteger(UInt8(ascii: ",")) }
                first = false
                try write(item, into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "]"))
        case .dict(let dict):
            buffer.writeInteger(UInt8(ascii: "{"))
            var first = true
            for (key, item) in dict {
                guard case .string(let name) = key else {
                    throw error("JSON object keys must be strings, not \(key)")
                }
                if !first { buffer.writeInteger(UInt8(ascii: ",")) }
                first = false
                writeString(name, &buffer)
                buffer.writeInteger(UInt8(ascii: ":"))
                try write(item, into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "}"))
        }
    }

    static func error(_ message: String) -> CodecError { CodecError(codec: "json", message) }

    @inline(__always)
    static func writeInteger(_ i: Int64, _ buffer: inout ByteBuffer) {
        // Digits into a stack buffer, most significant first.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var magnitude = i.magnitude
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude != 0
            if i < 0 { buffer.writeInteger(UInt8(ascii: "-")) }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(digits)[start..<20]))
        }
    }

    /// orjson's float form: the shortest digits that read back as the same double (as
    /// Python's `repr`), in plain notation when the decimal exponent is in -5..<16, else as
    /// `d.ddde+X` / `de-X`. NaN and the infinities are `null`.
    static func writeDouble(_ d: Double, _ buffer: inout ByteBuffer) {
        guard d.isFinite else {
            buffer.writeStaticString("null")
            return
        }
        if d.sign == .minus { buffer.writeInteger(UInt8(ascii: "-")) }
        if d == 0 {
            buffer.writeStaticString("0.0")
            return
        }
        // Swift's description gives the shortest round-trip digits; only the layout changes.
        var digits: [UInt8] = []
        digits.reserveCapacity(17)
        var pointAt = -1, exponent = 0
        var text = d.magnitude.description
        text.withUTF8 { utf8 in
            var i = 0
            while i < utf8.count {
                let c = utf8[i]
                if c == UInt8(ascii: ".") {
                    pointAt = digits.count
                } else if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                    var sign = 1, value = 0
                    i += 1
                    if i < utf8.count, utf8[i] == UInt8(ascii: "-") { sign = -1; i += 1 } else if i < utf8.count, utf8[i] == UInt8(ascii: "+") { i += 1 }
                    while i < utf8.count { value = value * 10 + Int(utf8[i] &- UInt8(ascii: "0")); i += 1 }
                    exponent = sign * value
                    break
                } else {
                    digits.append(c)
                }
                i += 1
            }
        }
        if pointAt < 0 { pointAt = digits.count }
        // value = 0.DIGITS x 10^(pointAt + exponent); drop leading and trailing zeros.
        var leading = 0
        while leading < digits.count - 1, digits[leading] == UInt8(ascii: "0") { leading += 1 }
        var trailing = digits.count
        while trailing > leading + 1, digits[trailing - 1] == UInt8(ascii: "0") { trailing -= 1 }
        let significant = digits[leading..<trailing]
        let e = pointAt - leading + exponent - 1  // value = d.ddd x 10^e

        if e >= -5 && e < 16 {
            if e >= 0 {
                let whole = significant.prefix(e + 1)
                buffer.writeBytes(whole)
                if whole.count < e + 1 { buffer.writeRepeatingByte(UInt8(ascii: "0"), count: e + 1 - whole.count) }
                buffer.writeInteger(UInt8(ascii: "."))
                let fraction = significant.dropFirst(e + 1)
                if fraction.isEmpty { buffer.writeInteger(UInt8(ascii: "0")) } else { buffer.writeBytes(fraction) }
            } else {
                buffer.writeStaticString("0.")
                buffer.writeRepeatingByte(UInt8(ascii: "0"), count: -e - 1)
                buffer.writeBytes(significant)
            }
        } else {
            buffer.writeInteger(significant[significant.startIndex])
            if significant.count > 1 {
                buffer.writeInteger(UInt8(ascii: "."))
                buffer.writeBytes(significant.dropFirst())
            }
            buffer.writeStaticString(e < 0 ? "e-" : "e+")
            writeInteger(Int64(e.magnitude), &buffer)
        }
    }

    /// A JSON string: `"` and `\` escaped, control characters as `\n`-style or `\u00XX`
    /// escapes, everything else (non-ASCII included) as UTF-8.
    static func writeString(_ s: String, _ buffer: inout ByteBuffer) {
        var s = s
        s.withUTF8 { utf8 in
            buffer.writeInteger(UInt8(ascii: "\""))
            var runStart = 0
            var i = 0
            let count = utf8.count
            while i < count {
                // Eight bytes at a time while none needs escaping.
                if count - i >= 8 {
                    let word = UnsafeRawBufferPointer(utf8).loadUnaligned(fromByteOffset: i, as: UInt64.self)
                    if !JSONBytes.mayNeedEscape(word) {
                        i += 8
                        continue
                    }
                }
                let c = utf8[i]
                i += 1
                guard c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") else { continue }
                let at = i - 1
                if runStart < at { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[runStart..<at])) }
                runStart = at + 1
                switch c {
                case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case 0x08: buffer.writeStaticString("\\b")
                case 0x09: buffer.writeStaticString("\\t")
                case 0x0A: buffer.writeStaticString("\\n")
                case 0x0C: buffer.writeStaticString("\\f")
                case 0x0D: buffer.writeStaticString("\\r")
                default:
                    let hexDigits: StaticString = "0123456789abcdef"
                    buffer.writeStaticString("\\u00")
                    buffer.writeInteger(hexDigits.utf8Start[Int(c >> 4)])
                    buffer.writeInteger(hexDigits.utf8Start[Int(c & 0xF)])
                }
            }
            if runStart < utf8.count { buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(utf8)[runStart...])) }
            buffer.writeInteger(UInt8(ascii: "\""))
        }
    }
}

/// Byte tests eight at a time (SWAR), for the JSON string fast paths.
enum JSONBytes {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// True if one of the eight bytes is below 0x20, a quote or a backslash.
    @inline(__always)
    static func mayNeedEscape(_ word: UInt64) -> Bool {
        let control = (word &- ones &* 0x20) & ~word & highs
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let hasQuote = (quote &- ones) & ~quote & highs
        let hasBackslash = (backslash &- ones) & ~backslash & highs
        return (control | hasQuote | hasBackslash) != 0
    }
}
