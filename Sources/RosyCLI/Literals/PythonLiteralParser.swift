import OrderedCollections
import RosyWire

/// Parses a Python literal, as Python's `ast.literal_eval` does, into a ``Value``.
///
/// rosy's `topic send` and `service call` take their arguments this way:
///
/// ```swift
/// let value = try PythonLiteralParser.parse("{'key': [1, 2], 'pi': 3.14}")
/// ```
///
/// Accepted: strings (`'x'`, `"x"`, triple quotes, `r`/`u`/`b`/`rb` prefixes, adjacent
/// strings joined), integers (`42`, `-3`, `0x1f`, `0o17`, `0b11`, `1_000`), floats (`3.14`,
/// `1e3`, `.5`), `True`, `False`, `None`, lists, tuples, dicts, sets and `set()`.
/// Anything else (a bare word, a call, an operator) throws ``LiteralError`` with the
/// column of the offending character; nothing is ever evaluated.
public struct PythonLiteralParser {
    private let scalars: [Unicode.Scalar]
    private var position = 0
    private let text: String

    /// Parses `text` as one Python literal.
    public static func parse(_ text: String) throws(LiteralError) -> Value {
        var parser = PythonLiteralParser(text)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        guard parser.atEnd else { throw parser.error("unexpected text after the value") }
        return value
    }

    private init(_ text: String) {
        self.text = text
        self.scalars = Array(text.unicodeScalars)
    }

    // MARK: - Grammar

    private mutating func parseValue() throws(LiteralError) -> Value {
        guard let c = peek else { throw error("expected a value, found the end of the text") }
        switch c {
        case "[": return .list(try parseSequence(closing: "]").items)
        case "(":
            let (items, trailingComma) = try parseSequence(closing: ")")
            if items.count == 1 && !trailingComma { return items[0] }  // parentheses only
            return .tuple(items)
        case "{": return try parseBraces()
        case "'", "\"": return try parseStrings()
        case "-", "+", ".", "0"..."9": return try parseNumber()
        default:
            if isIdentifierStart(c) { return try parseWord() }
            throw error("unexpected character \(quoted(c))")
        }
    }

    /// Items up to `closing`; the opening bracket is at the current position.
    private mutating func parseSequence(closing: Unicode.Scalar) throws(LiteralError) -> (items: [Value], trailingComma: Bool) {
        position += 1
        var items: [Value] = []
        var trailingComma = false
        skipWhitespace()
        while peek != closing {
            items.append(try parseValue())
            skipWhitespace()
            trailingComma = false
            if peek == "," {
                position += 1
                trailingComma = true
                skipWhitespace()
            } else if peek != closing {
                throw error(peek == nil ? "expected ',' or '\(closing)', found the end of the text"
                                        : "expected ',' or '\(closing)'")
            }
        }
        position += 1
        return (items, trailingComma)
    }

    /// `{}` and `{k: v, ...}` are dicts, `{a, b}` is a set.
    private mutating func parseBraces() throws(LiteralError) -> Value {
        position += 1
        skipWhitespace()
        if peek == "}" { position += 1; return .dict([:]) }
        let first = try parseValue()
        skipWhitespace()
        if peek == ":" {
            var dict = OrderedDictionary<Value, Value>()
            var key = first
            while true {
                position += 1  // the ':'
                skipWhitespace()
                dict[key] = try parseValue()
                skipWhitespace()
                if peek == "," { position += 1; skipWhitespace() }
                else if peek != "}" { throw error(peek == nil ? "expected ',' or '}', found the end of the text" : "expected ',' or '}'") }
                if peek == "}" { position += 1; return .dict(dict) }
                let keyStart = position
                key = try parseValue()
                skipWhitespace()
                guard peek == ":" else {
                    throw LiteralError(text: text, column: peek == nil ? scalars.count : position,
                                       reason: keyStart == position ? "expected ':'" : "expected ':' after the key")
                }
            }
        }
        var set = OrderedSet<Value>([first])
        while true {
            if peek == "," { position += 1; skipWhitespace() }
            else if peek != "}" { throw error(peek == nil ? "expected ',' or '}', found the end of the text" : "expected ',' or '}'") }
            if peek == "}" { position += 1; return .set(set) }
            set.append(try parseValue())
            skipWhitespace()
        }
    }

    private mutating func parseWord() throws(LiteralError) -> Value {
        let start = position
        while let c = peek, isIdentifierContinue(c) { position += 1 }
        let word = String(String.UnicodeScalarView(scalars[start..<position]))
        if peek == "'" || peek == "\"", ["r", "u", "b", "br", "rb"].contains(word.lowercased()) {
            position = start
            return try parseStrings()
        }
        switch word {
        case "True": return .bool(true)
        case "False": return .bool(false)
        case "None": return .none
        case "set":
            skipWhitespace()
            if peek == "(" {
                position += 1
                skipWhitespace()
                if peek == ")" { position += 1; return .set([]) }
            }
            fallthrough
        default:
            throw LiteralError(text: text, column: start,
                               reason: "'\(word)' is not a Python literal (quote a string: \"'\(word)'\")")
        }
    }

    // MARK: - Numbers

    private mutating func parseNumber() throws(LiteralError) -> Value {
        let start = position
        var negative = false
        if peek == "-" || peek == "+" {
            negative = peek == "-"
            position += 1
            skipWhitespace()
            guard let c = peek, c == "." || ("0"..."9").contains(c) else {
                throw error(peek == nil ? "expected a number, found the end of the text" : "expected a number after the sign")
            }
        }
        let numberStart = position
        if peek == "0", let next = peek(1), "xXoObB".unicodeScalars.contains(next) {
            position += 2
            let radix: Int = next == "x" || next == "X" ? 16 : next == "o" || next == "O" ? 8 : 2
            var digits = ""
            while let c = peek, c == "_" || c.properties.isASCIIHexDigit {
                if c != "_" {
                    guard let d = Int(String(c), radix: 16), d < radix else { throw error("invalid digit \(quoted(c)) in a base-\(radix) number") }
                    digits.unicodeScalars.append(c)
                }
                position += 1
            }
            guard !digits.isEmpty else { throw error("expected digits") }
            try checkNumberEnd()
            guard let magnitude = UInt64(digits, radix: radix) else { throw outOfRange(start) }
            return try integer(magnitude: magnitude, negative: negative, start: start)
        }
        var isFloat = false
        var literal = ""
        func digits(_ parser: inout PythonLiteralParser, into literal: inout String) {
            while let c = parser.peek, c == "_" || ("0"..."9").contains(c) {
                if c != "_" { literal.unicodeScalars.append(c) }
                parser.position += 1
            }
        }
        digits(&self, into: &literal)
        if peek == "." {
            isFloat = true
            literal += "."
            position += 1
            digits(&self, into: &literal)
        }
        if literal == "." { position = numberStart; throw error("unexpected character '.'") }
        if let e = peek, e == "e" || e == "E" {
            isFloat = true
            literal += "e"
            position += 1
            if let sign = peek, sign == "+" || sign == "-" { literal.unicodeScalars.append(sign); position += 1 }
            let before = literal.count
            digits(&self, into: &literal)
            guard literal.count > before else { throw error("expected the exponent's digits") }
        }
        if peek == "j" || peek == "J" { throw error("complex numbers are not supported") }
        try checkNumberEnd()
        if isFloat {
            guard let d = Double(literal.hasPrefix(".") ? "0" + literal : literal) else { throw error("invalid number") }
            return .double(negative ? -d : d)
        }
        if literal.count > 1 && literal.hasPrefix("0") && literal.contains(where: { $0 != "0" }) {
            throw LiteralError(text: text, column: numberStart, reason: "leading zeros are not allowed (use 0o for octal)")
        }
        guard let magnitude = UInt64(literal) else { throw outOfRange(start) }
        return try integer(magnitude: magnitude, negative: negative, start: start)
    }

    private func integer(magnitude: UInt64, negative: Bool, start: Int) throws(LiteralError) -> Value {
        if negative {
            if magnitude == UInt64(Int64.max) + 1 { return .int(Int64.min) }
            guard magnitude <= UInt64(Int64.max) else { throw outOfRange(start) }
            return .int(-Int64(magnitude))
        }
        guard magnitude <= UInt64(Int64.max) else { throw outOfRange(start) }
        return .int(Int64(magnitude))
    }

    private func outOfRange(_ start: Int) -> LiteralError {
        LiteralError(text: text, column: start, reason: "integer does not fit in 64 bits")
    }

    private func checkNumberEnd() throws(LiteralError) {
        if let c = peek, isIdentifierContinue(c) { throw error("unexpected character \(quoted(c)) in a number") }
    }

    // MARK: - Strings

    /// One string literal or several adjacent ones, joined (`'a' 'b'` is `'ab'`).
    private mutating func parseStrings() throws(LiteralError) -> Value {
        var result = try parseOneString()
        while true {
            let save = position
            skipWhitespace()
            guard let c = peek, c == "'" || c == "\"" || (isIdentifierStart(c) && startsStringPrefix()) else {
                position = save
                break
            }
            let partStart = position
            let part = try parseOneString()
            if part.isBytes != result.isBytes {
                throw LiteralError(text: text, column: partStart, reason: "cannot mix bytes and str literals")
            }
            result.scalars += part.scalars
        }
        if result.isBytes {
            return .bytes(result.scalars.map { UInt8(truncatingIfNeeded: $0.value) })
        }
        return .string(String(String.UnicodeScalarView(result.scalars)))
    }

    private func startsStringPrefix() -> Bool {
        var i = position
        var prefix = ""
        while i < scalars.count, isIdentifierStart(scalars[i]), prefix.count < 3 { prefix.unicodeScalars.append(scalars[i]); i += 1 }
        guard i < scalars.count, scalars[i] == "'" || scalars[i] == "\"" else { return false }
        return ["r", "u", "b", "br", "rb"].contains(prefix.lowercased())
    }

    private struct StringContent { var isBytes: Bool; var scalars: [Unicode.Scalar] }

    private mutating func parseOneString() throws(LiteralError) -> StringContent {
        var isBytes = false, isRaw = false
        while let c = peek, c != "'" && c != "\"" {
            switch c {
            case "b", "B": isBytes = true
            case "r", "R": isRaw = true
            case "u", "U": break
            default: throw error("unexpected character \(quoted(c))")
            }
            position += 1
        }
        let openAt = position
        guard let quote = peek else { throw error("expected a quote") }
        let triple = peek(1) == quote && peek(2) == quote
        position += triple ? 3 : 1
        var out: [Unicode.Scalar] = []
        while true {
            guard let c = peek else {
                throw LiteralError(text: text, column: openAt, reason: "this string is never closed")
            }
            if c == quote && (!triple || (peek(1) == quote && peek(2) == quote)) {
                position += triple ? 3 : 1
                return StringContent(isBytes: isBytes, scalars: out)
            }
            if c == "\n" && !triple { throw LiteralError(text: text, column: openAt, reason: "this string is never closed on its line") }
            if isBytes && c.value > 0x7F { throw error("bytes can only contain ASCII characters") }
            if c == "\\" && !isRaw {
                try parseEscape(into: &out, isBytes: isBytes)
            } else if c == "\\" && isRaw {
                // A raw string keeps the backslash, and a quote after it does not end the string.
                out.append(c)
                position += 1
                if let next = peek { out.append(next); position += 1 }
            } else {
                out.append(c)
                position += 1
            }
        }
    }

    private mutating func parseEscape(into out: inout [Unicode.Scalar], isBytes: Bool) throws(LiteralError) {
        let escapeStart = position
        position += 1
        guard let c = peek else { throw error("unfinished escape at the end of the text") }
        position += 1
        switch c {
        case "\n": break
        case "\\", "'", "\"": out.append(c)
        case "a": out.append("\u{07}")
        case "b": out.append("\u{08}")
        case "f": out.append("\u{0C}")
        case "n": out.append("\n")
        case "r": out.append("\r")
        case "t": out.append("\t")
        case "v": out.append("\u{0B}")
        case "0"..."7":
            var value = c.value - 0x30
            for _ in 0..<2 {
                guard let d = peek, ("0"..."7").contains(d) else { break }
                value = value * 8 + (d.value - 0x30)
                position += 1
            }
            if isBytes { value &= 0xFF }
            guard let scalar = Unicode.Scalar(value) else { throw LiteralError(text: text, column: escapeStart, reason: "invalid octal escape") }
            out.append(scalar)
        case "x", "u", "U":
            if isBytes && c != "x" { out.append("\\"); out.append(c); return }
            let count = c == "x" ? 2 : c == "u" ? 4 : 8
            var value: UInt32 = 0
            for _ in 0..<count {
                guard let d = peek, d.properties.isASCIIHexDigit, let digit = UInt32(String(d), radix: 16) else {
                    throw LiteralError(text: text, column: escapeStart, reason: "truncated \\\(c) escape: needs \(count) hex digits")
                }
                value = value * 16 + digit
                position += 1
            }
            guard let scalar = Unicode.Scalar(value) else {
                throw LiteralError(text: text, column: escapeStart, reason: "escape \\\(c) names no Unicode character")
            }
            out.append(scalar)
        case "N":
            if isBytes { out.append("\\"); out.append(c); return }
            throw LiteralError(text: text, column: escapeStart, reason: "\\N{...} escapes are not supported; use \\u")
        default:
            out.append("\\")
            out.append(c)
        }
    }

    // MARK: - Characters

    private var atEnd: Bool { position >= scalars.count }
    private var peek: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }
    private func peek(_ offset: Int) -> Unicode.Scalar? {
        position + offset < scalars.count ? scalars[position + offset] : nil
    }

    private mutating func skipWhitespace() {
        while let c = peek, c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0C}" { position += 1 }
    }

    private func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
        c == "_" || c.properties.isXIDStart
    }

    private func isIdentifierContinue(_ c: Unicode.Scalar) -> Bool {
        c == "_" || c.properties.isXIDContinue
    }

    private func quoted(_ c: Unicode.Scalar) -> String {
        c == "'" ? "\"'\"" : "'\(c)'"
    }

    private func error(_ reason: String) -> LiteralError {
        LiteralError(text: text, column: position, reason: reason)
    }
}

/// A Python literal that could not be parsed: what is wrong, and where.
///
/// ``description`` shows the text with a caret under the offending character:
///
/// ```
/// bad literal "[1, 2": expected ',' or ']', found the end of the text (column 6)
///   [1, 2
///        ^
/// ```
public struct LiteralError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The whole text that was being parsed.
    public var text: String
    /// The offending character's index, in Unicode scalars from 0 (the text's length for its end).
    public var column: Int
    /// What is wrong, in words.
    public var reason: String

    public var description: String {
        let prefix = String(String.UnicodeScalarView(text.unicodeScalars.prefix(column)))
        // Tabs keep their width under the caret; other characters count one.
        let padding = String(prefix.unicodeScalars.map { $0 == "\t" ? "\t" : " " })
        return "bad literal \(Value.string(text).pythonRepr): \(reason) (column \(column + 1))\n  \(text)\n  \(padding)^"
    }
}
