#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import OrderedCollections

/// Builds any `Decodable` from a ``Value``, the reverse of ``ValueEncoder``: dicts with string
/// keys fill structs, lists/tuples/sets fill arrays, `.none` or a missing key is `nil`,
/// bytes fill `[UInt8]` and `Data`, seconds since 1970 fill a `Date`. An int fills a floating-point field, and a double with
/// an integral value fills an integer field (JSON and Python blur the two).
///
/// ```swift
/// listen("pose") { message in
///     let pose = try message.args[0].decode(Pose.self)
/// }
/// ```
public struct ValueDecoder {
    /// Passed to the types being decoded, as `Decoder.userInfo`.
    public var userInfo: [CodingUserInfoKey: Any] = [:]

    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from value: Value) throws -> T {
        try ValueDecoderImpl(value: value, path: [], userInfo: userInfo).decodeValue(type)
    }
}

extension Value {
    /// This value as a `Decodable` type (see ``ValueDecoder``): `try value.decode(Pose.self)`.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try ValueDecoder().decode(type, from: self)
    }
}

private struct ValueDecoderImpl: Decoder {
    let value: Value
    let codingPath: [any CodingKey]
    let userInfo: [CodingUserInfoKey: Any]

    init(value: Value, path: [any CodingKey], userInfo: [CodingUserInfoKey: Any]) {
        self.value = value
        self.codingPath = path
        self.userInfo = userInfo
    }

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if type == Value.self, let value = value as? T { return value }
        if type == [UInt8].self, case .bytes(let bytes) = value, let bytes = bytes as? T { return bytes }
        if type == Data.self, case .bytes(let bytes) = value, let data = Data(bytes) as? T { return data }
        if type == Date.self, let seconds = value.doubleValue, let date = Date(timeIntervalSince1970: seconds) as? T { return date }
        return try T(from: self)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .dict(let dict) = value else { throw mismatch([String: Value].self, value, codingPath) }
        return KeyedDecodingContainer(KeyedContainer<Key>(dict: dict, decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch value {
        case .list(let items), .tuple(let items): return UnkeyedContainer(items: items, decoder: self)
        case .set(let items): return UnkeyedContainer(items: Array(items), decoder: self)
        case .bytes(let bytes): return UnkeyedContainer(items: bytes.map { .int(Int64($0)) }, decoder: self)
        default: throw mismatch([Value].self, value, codingPath)
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleContainer(decoder: self) }

    func child(_ value: Value, _ key: any CodingKey) -> ValueDecoderImpl {
        ValueDecoderImpl(value: value, path: codingPath + [key], userInfo: userInfo)
    }
}

private func mismatch(_ type: Any.Type, _ value: Value, _ path: [any CodingKey]) -> DecodingError {
    .typeMismatch(type, .init(codingPath: path, debugDescription: "expected \(type), found \(kind(of: value))"))
}

private func kind(of value: Value) -> String {
    switch value {
    case .none: return "None"
    case .bool: return "a bool"
    case .int(let i): return "the int \(i)"
    case .double(let d): return "the float \(d)"
    case .string: return "a string"
    case .bytes: return "bytes"
    case .list: return "a list"
    case .tuple: return "a tuple"
    case .dict: return "a dict"
    case .set: return "a set"
    }
}

/// Scalar conversions shared by the containers.
private enum Scalar {
    static func bool(_ v: Value, _ path: [any CodingKey]) throws -> Bool {
        guard case .bool(let b) = v else { throw mismatch(Bool.self, v, path) }
        return b
    }

    static func string(_ v: Value, _ path: [any CodingKey]) throws -> String {
        guard case .string(let s) = v else { throw mismatch(String.self, v, path) }
        return s
    }

    static func double(_ v: Value, _ path: [any CodingKey]) throws -> Double {
        switch v {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: throw mismatch(Double.self, v, path)
        }
    }

    static func integer<T: FixedWidthInteger>(_ v: Value, _ path: [any CodingKey]) throws -> T {
        switch v {
        case .int(let i):
            guard let x = T(exactly: i) else {
                throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "\(i) does not fit in \(T.self)"))
            }
            return x
        case .double(let d):
            guard let x = T(exactly: d) else {
                throw DecodingError.dataCorrupted(.init(codingPath: path, debugDescription: "\(d) is not a \(T.self)"))
            }
            return x
        default: throw mismatch(T.self, v, path)
        }
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let dict: OrderedDictionary<Value, Value>
    let decoder: ValueDecoderImpl
    var codingPath: [any CodingKey] { decoder.codingPath }

    var allKeys: [Key] {
        dict.keys.compactMap { key in
            switch key {
            case .string(let s): return Key(stringValue: s)
            case .int(let i): return Key(intValue: Int(i)) ?? Key(stringValue: "\(i)")
            default: return nil
            }
        }
    }

    func lookup(_ key: Key) -> Value? {
        if let v = dict[.string(key.stringValue)] { return v }
        if let i = key.intValue { return dict[.int(Int64(i))] }
        return nil
    }

    func contains(_ key: Key) -> Bool { lookup(key) != nil }

    func require(_ key: Key) throws -> Value {
        guard let v = lookup(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no key \"\(key.stringValue)\""))
        }
        return v
    }

    func decodeNil(forKey key: Key) throws -> Bool { (lookup(key) ?? .none).isNone }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try Scalar.bool(try require(key), codingPath + [key]) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try Scalar.string(try require(key), codingPath + [key]) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try Scalar.double(try require(key), codingPath + [key]) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try Scalar.double(try require(key), codingPath + [key])) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try Scalar.integer(try require(key), codingPath + [key]) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try Scalar.integer(try require(key), codingPath + [key]) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try Scalar.integer(try require(key), codingPath + [key]) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try Scalar.integer(try require(key), codingPath + [key]) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try Scalar.integer(try require(key), codingPath + [key]) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try Scalar.integer(try require(key), codingPath + [key]) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try Scalar.integer(try require(key), codingPath + [key]) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try Scalar.integer(try require(key), codingPath + [key]) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try Scalar.integer(try require(key), codingPath + [key]) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try Scalar.integer(try require(key), codingPath + [key]) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decoder.child(try require(key), key).decodeValue(type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder.child(try require(key), key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder.child(try require(key), key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { decoder.child(dict[.string("super")] ?? .none, NameKey("super")) }
    func superDecoder(forKey key: Key) throws -> any Decoder { decoder.child(lookup(key) ?? .none, key) }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let items: [Value]
    let decoder: ValueDecoderImpl
    var currentIndex = 0

    init(items: [Value], decoder: ValueDecoderImpl) {
        self.items = items
        self.decoder = decoder
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    mutating func next(_ type: Any.Type) throws -> (Value, [any CodingKey]) {
        let path = codingPath + [IndexKey(currentIndex)]
        guard currentIndex < items.count else {
            throw DecodingError.valueNotFound(type, .init(codingPath: path, debugDescription: "the list has only \(items.count) items"))
        }
        defer { currentIndex += 1 }
        return (items[currentIndex], path)
    }

    mutating func decodeNil() throws -> Bool {
        guard currentIndex < items.count, items[currentIndex].isNone else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { let (v, p) = try next(type); return try Scalar.bool(v, p) }
    mutating func decode(_ type: String.Type) throws -> String { let (v, p) = try next(type); return try Scalar.string(v, p) }
    mutating func decode(_ type: Double.Type) throws -> Double { let (v, p) = try next(type); return try Scalar.double(v, p) }
    mutating func decode(_ type: Float.Type) throws -> Float { let (v, p) = try next(type); return Float(try Scalar.double(v, p)) }
    mutating func decode(_ type: Int.Type) throws -> Int { let (v, p) = try next(type); return try Scalar.integer(v, p) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { let (v, p) = try next(type); return try Scalar.integer(v, p) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { let (v, p) = try next(type); return try Scalar.integer(v, p) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { let (v, p) = try next(type); return try Scalar.integer(v, p) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { let (v, p) = try next(type); return try Scalar.integer(v, p) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { let (v, p) = try next(type); return try Scalar.integer(v, p) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { let (v, p) = try next(type); return try Scalar.integer(v, p) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { let (v, p) = try next(type); return try Scalar.integer(v, p) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { let (v, p) = try next(type); return try Scalar.integer(v, p) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { let (v, p) = try next(type); return try Scalar.integer(v, p) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (v, p) = try next(type)
        return try ValueDecoderImpl(value: v, path: p, userInfo: decoder.userInfo).decodeValue(type)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (v, p) = try next([String: Value].self)
        return try ValueDecoderImpl(value: v, path: p, userInfo: decoder.userInfo).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (v, p) = try next([Value].self)
        return try ValueDecoderImpl(value: v, path: p, userInfo: decoder.userInfo).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (v, p) = try next(Value.self)
        return ValueDecoderImpl(value: v, path: p, userInfo: decoder.userInfo)
    }
}

private struct SingleContainer: SingleValueDecodingContainer {
    let decoder: ValueDecoderImpl
    var codingPath: [any CodingKey] { decoder.codingPath }
    var value: Value { decoder.value }

    func decodeNil() -> Bool { value.isNone }
    func decode(_ type: Bool.Type) throws -> Bool { try Scalar.bool(value, codingPath) }
    func decode(_ type: String.Type) throws -> String { try Scalar.string(value, codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try Scalar.double(value, codingPath) }
    func decode(_ type: Float.Type) throws -> Float { Float(try Scalar.double(value, codingPath)) }
    func decode(_ type: Int.Type) throws -> Int { try Scalar.integer(value, codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try Scalar.integer(value, codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try Scalar.integer(value, codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try Scalar.integer(value, codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try Scalar.integer(value, codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try Scalar.integer(value, codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try Scalar.integer(value, codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try Scalar.integer(value, codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try Scalar.integer(value, codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try Scalar.integer(value, codingPath) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(type) }
}
