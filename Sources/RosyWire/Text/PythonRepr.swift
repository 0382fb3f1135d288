extension Value {
    /// The value as Python's `repr()` prints it, as rosy's `topic echo` shows arguments:
    ///
    /// ```swift
    /// Value.tuple([1, "a"]).pythonRepr        // "(1, 'a')"
    /// Value.bytes([0, 65]).pythonRepr         // "b'\\x00A'"
    /// ```
    public var pythonRepr: String {
        var out = ""
        writeRepr(into: &out)
        return out
    }

    private func writeRepr(into out: inout String) {
        switch self {
        case .none: out += "None"
        case .bool(let b): out += b ? "True" : "False"
        case .int(let i): out += String(i)
        case .double(let d): out += pythonFloatRepr(d)
        case .string(let s): out += pythonStringRepr(s)
        case .bytes(let b): out += pythonBytesRepr(b)
        case .list(let items):
            out += "["
            writeItems(items, into: &out)
            out += "]"
        case .tuple(let items):
            out += "("
            writeItems(items, into: &out)
            if items.count == 1 { out += "," }
            out += ")"
        case .set(let items):
            if items.isEmpty { out += "set()"; return }
            out += "{"
            writeItems(Array(items), into: &out)
            out += "}"
        case .dict(let dict):
            out += "{"
            var first = true
            for (key, value) in dict {
                if !first { out += ", " }
                first = false
                key.writeRepr(into: &out)
                out += ": "
                value.writeRepr(into: &out)
            }
            out += "}"
        }
    }

    private func writeItems(_ items: [Value], into out: inout String) {
        for (i, item) in items.enumerated() {
            if i > 0 { out += ", " }
            item.writeRepr(into: &out)
        }
    }
}

/// Python's `repr(float)`: the shortest text that reads back to the same double,
/// with `.0` on whole numbers and an exponent below 1e-4 or from 1e16 on:
/// `pythonFloatRepr(1)` is `"1.0"`, `pythonFloatRepr(1e-5)` is `"1e-05"`.
public func pythonFloatRepr(_ d: Double) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d < 0 ? "-inf" : "inf" }
    if d == 0 { return d.sign == .minus ? "-0.0" : "0.0" }
    // Swift's description is also the shortest round-trip form; take its digits and exponent.
    let (digits, pointPosition) = shortestDigits(abs(d))
    let sign = d < 0 ? "-" : ""
    if pointPosition > 16 || pointPosition < -3 {
        let exponent = pointPosition - 1
        var mantissa = String(digits.first!)
        if digits.count > 1 { mantissa += "." + digits.dropFirst() }
        let expSign = exponent < 0 ? "-" : "+"
        let expDigits = String(abs(exponent))
        return sign + mantissa + "e" + expSign + (expDigits.count < 2 ? "0" + expDigits : expDigits)
    }
    if pointPosition <= 0 {
        return sign + "0." + String(repeating: "0", count: -pointPosition) + digits
    }
    if pointPosition >= digits.count {
        return sign + digits + String(repeating: "0", count: pointPosition - digits.count) + ".0"
    }
    let index = digits.index(digits.startIndex, offsetBy: pointPosition)
    return sign + digits[..<index] + "." + digits[index...]
}

/// The significant digits of a positive finite double and where the decimal point goes:
/// the value is `0.DIGITS × 10^pointPosition`.
private func shortestDigits(_ d: Double) -> (String, Int) {
    let text = "\(d)"  // e.g. "1234.5", "1e-05", "1.5e+16"
    var mantissa = Substring(text)
    var exponent = 0
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        mantissa = text[..<e]
        exponent = Int(text[text.index(after: e)...]) ?? 0
    }
    let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
    let whole = String(parts[0])
    let fraction = parts.count > 1 ? String(parts[1]) : ""
    var digits = whole + fraction
    var point = whole.count + exponent
    // Strip leading zeros (moving the point) and trailing zeros.
    while digits.hasPrefix("0") && digits.count > 1 { digits.removeFirst(); point -= 1 }
    while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
    return (digits, point)
}

/// Python's `repr(str)`: single quotes unless the text has a `'` and no `"`:
/// `pythonStringRepr("it's")` is `"it's"` in double quotes.
public func pythonStringRepr(_ s: String) -> String {
    let quote: Unicode.Scalar = s.unicodeScalars.contains("'") && !s.unicodeScalars.contains("\"") ? "\"" : "'"
    var out = String(quote)
    for c in s.unicodeScalars {
        switch c {
        case quote, "\\": out += "\\" + String(c)
        case "\t": out += "\\t"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        default:
            if isPythonPrintable(c) { out.unicodeScalars.append(c) }
            else if c.value < 0x100 { out += "\\x" + hex(c.value, width: 2) }
            else if c.value < 0x10000 { out += "\\u" + hex(c.value, width: 4) }
            else { out += "\\U" + hex(c.value, width: 8) }
        }
    }
    out.unicodeScalars.append(quote)
    return out
}

/// Python's `repr(bytes)`: `b'...'` with printable ASCII as is, the rest as `\xNN`.
func pythonBytesRepr(_ bytes: [UInt8]) -> String {
    let quote: UInt8 = bytes.contains(0x27) && !bytes.contains(0x22) ? 0x22 : 0x27
    var out = "b" + String(UnicodeScalar(quote))
    for b in bytes {
        switch b {
        case quote, 0x5C: out += "\\" + String(UnicodeScalar(b))
        case 0x09: out += "\\t"
        case 0x0A: out += "\\n"
        case 0x0D: out += "\\r"
        case 0x20..<0x7F: out.unicodeScalars.append(UnicodeScalar(b))
        default: out += "\\x" + hex(UInt32(b), width: 2)
        }
    }
    out += String(UnicodeScalar(quote))
    return out
}

/// Python's `str.isprintable()` for one character: not a control, format, surrogate,
/// private-use, unassigned or separator character (the space excepted).
private func isPythonPrintable(_ c: Unicode.Scalar) -> Bool {
    if c == " " { return true }
    switch c.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned,
         .lineSeparator, .paragraphSeparator, .spaceSeparator:
        return false
    default:
        return true
    }
}

private func hex(_ value: UInt32, width: Int) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}
