import OrderedCollections

/// `Value` is itself `Codable`, so that a struct may hold free-form data in a `Value` field.
/// ``ValueEncoder``/``ValueDecoder`` pass it through unchanged; other coders (JSONEncoder,
/// ...) see scalars, arrays and string-keyed objects (bytes as an array of numbers).
extension Value: Codable {
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .none:
            var c = encoder.singleValueContainer(); try c.encodeNil()
        case .bool(let b):
            var c = encoder.singleValueContainer(); try c.encode(b)
        case .int(let i):
            var c = encoder.singleValueContainer(); try c.encode(i)
        case .double(let d):
            var c = encoder.singleValueContainer(); try c.encode(d)
        case .string(let s):
            var c = encoder.singleValueContainer(); try c.encode(s)
        case .bytes(let b):
            var c = encoder.singleValueContainer(); try c.encode(b)
        case .list(let items), .tuple(let items):
            var c = encoder.unkeyedContainer()
            for item in items { try c.encode(item) }
        case .set(let items):
            var c = encoder.unkeyedContainer()
            for item in items { try c.encode(item) }
        case .dict(let dict):
            if dict.keys.allSatisfy({ $0.stringValue != nil }) {
                var c = encoder.container(keyedBy: NameKey.self)
                for (key, item) in dict { try c.encode(item, forKey: NameKey(key.stringValue ?? "")) }
            } else {
                // Keys that are not strings: alternating keys and values, as Swift's Dictionary does.
                var c = encoder.unkeyedContainer()
                for (key, item) in dict {
                    try c.encode(key)
                    try c.encode(item)
                }
            }
        }
    }

    public init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: NameKey.self) {
            var dict = OrderedDictionary<Value, Value>()
            for key in keyed.allKeys { dict[.string(key.stringValue)] = try keyed.decode(Value.self, forKey: key) }
            self = .dict(dict)
            return
        }
        if var unkeyed = try? decoder.unkeyedContainer() {
            var items: [Value] = []
            while !unkeyed.isAtEnd { items.append(try unkeyed.decode(Value.self)) }
            self = .list(items)
            return
        }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .none }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "no rosy value matches this data") }
    }
}
