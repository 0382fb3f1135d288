import OrderedCollections

/// The data a rosy message carries: everything the pickle, JSON and msgpack codecs can express.
///
/// Build values with literals, so that calls read naturally:
///
/// ```swift
/// let args: [Value] = ["hello", 42, 3.5, nil, [1, 2], ["key": "value"]]
/// ```
///
/// `dict` keeps insertion order (as Python's `dict` does) and allows any hashable key
/// where the codec allows it (pickle and msgpack; JSON needs string keys).
public enum Value: Hashable, Sendable {
    case none
    case bool(Bool)
    /// A 64-bit signed integer. A larger integer from a peer is a decoding error.
    case int(Int64)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case list([Value])
    case tuple([Value])
    case dict(OrderedDictionary<Value, Value>)
    /// A set: elements are unique, kept in the order they were read or written.
    /// Two sets are equal when they hold the same elements, in any order (as in Python).
    case set(OrderedSet<Value>)
}

extension Value {
    public static func == (lhs: Value, rhs: Value) -> Bool {
        switch (lhs, rhs) {
        case (.none, .none): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.bytes(let a), .bytes(let b)): return a == b
        case (.list(let a), .list(let b)), (.tuple(let a), .tuple(let b)): return a == b
        case (.dict(let a), .dict(let b)): return a == b
        case (.set(let a), .set(let b)): return a.count == b.count && a.allSatisfy(b.contains)
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .none: hasher.combine(0)
        case .bool(let b): hasher.combine(1); hasher.combine(b)
        case .int(let i): hasher.combine(2); hasher.combine(i)
        case .double(let d): hasher.combine(3); hasher.combine(d)
        case .string(let s): hasher.combine(4); hasher.combine(s)
        case .bytes(let b): hasher.combine(5); hasher.combine(b)
        case .list(let a): hasher.combine(6); hasher.combine(a)
        case .tuple(let a): hasher.combine(7); hasher.combine(a)
        case .dict(let d): hasher.combine(8); hasher.combine(d)
        case .set(let s):
            // Order-independent, so that equal sets hash alike.
            hasher.combine(9)
            hasher.combine(s.reduce(0) { $0 ^ $1.hashValue })
        }
    }
}

extension Value: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) { self = .none }
}

extension Value: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension Value: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) { self = .int(value) }
}

extension Value: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension Value: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

extension Value: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: Value...) { self = .list(elements) }
}

extension Value: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (Value, Value)...) {
        var dict = OrderedDictionary<Value, Value>()
        for (key, value) in elements { dict[key] = value }
        self = .dict(dict)
    }
}

extension Value {
    /// Wraps a Swift integer; traps only if it does not fit in 64 bits (never on 64-bit platforms).
    public init(_ int: Int) { self = .int(Int64(int)) }
    public init(_ double: Double) { self = .double(double) }
    public init(_ string: String) { self = .string(string) }
    public init(_ bytes: [UInt8]) { self = .bytes(bytes) }

    public var isNone: Bool { if case .none = self { return true } else { return false } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var intValue: Int64? { if case .int(let i) = self { return i } else { return nil } }
    /// The number as a double: a `.double`, or an `.int` converted.
    public var doubleValue: Double? {
        switch self {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var bytesValue: [UInt8]? { if case .bytes(let b) = self { return b } else { return nil } }
    /// The elements of a list, tuple or set.
    public var arrayValue: [Value]? {
        switch self {
        case .list(let a), .tuple(let a): return a
        case .set(let s): return Array(s)
        default: return nil
        }
    }
    public var dictValue: OrderedDictionary<Value, Value>? { if case .dict(let d) = self { return d } else { return nil } }
}

/// A message's keyword arguments, in the order they were given (as Python keeps them).
///
/// ```swift
/// try await node.send("greeting", "hello", kwargs: ["name": "world", "times": 2])
/// ```
public typealias Kwargs = OrderedDictionary<String, Value>
