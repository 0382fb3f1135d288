#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import OrderedCollections

/// Turns any `Encodable` into a ``Value``: structs and classes become dicts with string
/// keys, arrays become lists, `nil` becomes `.none` (kept as a key, as Python's `None`),
/// `[UInt8]` and `Data` become bytes, integers and floating-point numbers become ints and
/// doubles, a `Date` becomes seconds since 1970 (as Python's `time.time()`), a ``Value``
/// stays itself.
///
/// ```swift
/// struct Pose: Codable { var x: Double; var y: Double; var label: String? }
/// let value = try ValueEncoder().encode(Pose(x: 1, y: 2, label: nil))
/// // ["x": 1.0, "y": 2.0, "label": nil]
/// try await node.send("pose", value)
/// ```
public struct ValueEncoder {
    /// Passed to the types being encoded, as `Encoder.userInfo`.
    public var userInfo: [CodingUserInfoKey: Any] = [:]

    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> Value {
        try EncodingNode.encode(value, path: [], userInfo: userInfo).resolved()
    }
}

extension Value {
    /// The value of an `Encodable` (see ``ValueEncoder``): `try Value(encoding: pose)`.
    public init<T: Encodable>(encoding value: T) throws {
        self = try ValueEncoder().encode(value)
    }
}

/// What an encoder has built so far: containers stay open (by reference) until the end,
/// as `Encoder` lets a type fetch a container and fill it later.
private final class EncodingNode {
    enum Content {
        case value(Value)
        case list([EncodingNode])
        case dict(OrderedDictionary<String, EncodingNode>)
    }

    var content: Content

    init(_ content: Content) { self.content = content }

    func resolved() -> Value {
        switch content {
        case .value(let value): return value
        case .list(let items): return .list(items.map { $0.resolved() })
        case .dict(let entries):
            var dict = OrderedDictionary<Value, Value>(minimumCapacity: entries.count)
            for (key, node) in entries { dict[.string(key)] = node.resolved() }
            return .dict(dict)
        }
    }

    /// Encodes one value into a new node, with the special cases first.
    static func encode<T: Encodable>(_ value: T, path: [any CodingKey], userInfo: [CodingUserInfoKey: Any]) throws -> EncodingNode {
        switch value {
        case let value as Value: return EncodingNode(.value(value))
        case let bytes as [UInt8]: return EncodingNode(.value(.bytes(bytes)))
        case let data as Data: return EncodingNode(.value(.bytes([UInt8](data))))
        case let date as Date: return EncodingNode(.value(.double(date.timeIntervalSince1970)))
        default:
            let encoder = ValueEncoderImpl(path: path, userInfo: userInfo)
            try value.encode(to: encoder)
            return encoder.node ?? EncodingNode(.dict([:]))  // a type that encodes nothing: an empty dict
        }
    }
}

private final class ValueEncoderImpl: Encoder {
    let codingPath: [any CodingKey]
    let userInfo: [CodingUserInfoKey: Any]
    var node: EncodingNode?

    init(path: [any CodingKey], userInfo: [CodingUserInfoKey: Any]) {
        self.codingPath = path
        self.userInfo = userInfo
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let node = claim(.dict([:]))
        return KeyedEncodingContainer(KeyedContainer<Key>(node: node, encoder: self, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        UnkeyedContainer(node: claim(.list([])), encoder: self, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleContainer(encoder: self, codingPath: codingPath)
    }

    /// The node for this encoder: the existing one if a container of the same kind was asked
    /// for before (as `super.encode(to:)` does), else a new one.
    private func claim(_ content: EncodingNode.Content) -> EncodingNode {
        if let node {
            switch (node.content, content) {
            case (.dict, .dict), (.list, .list): return node
            default: break
            }
        }
        let fresh = EncodingNode(content)
        node = fresh
        return fresh
    }

    func child<T: Encodable>(_ value: T, key: any CodingKey) throws -> EncodingNode {
        try EncodingNode.encode(value, path: codingPath + [key], userInfo: userInfo)
    }

    static func integer<T: BinaryInteger>(_ value: T, path: [any CodingKey]) throws -> Value {
        guard let int = Int64(exactly: value) else {
            throw EncodingError.invalidValue(value, .init(codingPath: path, debugDescription: "\(value) does not fit in 64 bits"))
        }
        return .int(int)
    }
}

struct IndexKey: CodingKey {
    var intValue: Int?
    var stringValue: String { "\(intValue ?? 0)" }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { self.intValue = intValue }
}

/// A key by name, for `super`.
struct NameKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let encoder: ValueEncoderImpl
    let codingPath: [any CodingKey]

    private func set(_ value: Value, _ key: Key) { set(EncodingNode(.value(value)), key.stringValue) }
    private func set(_ child: EncodingNode, _ key: Key) { set(child, key.stringValue) }
    private func set(_ child: EncodingNode, _ name: String) {
        guard case .dict(var entries) = node.content else { return }
        node.content = .value(.none)  // let go of the dict so that the update does not copy it
        entries[name] = child
        node.content = .dict(entries)
    }

    mutating func encodeNil(forKey key: Key) throws { set(.none, key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { set(.double(value), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { set(.double(Double(value)), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(.int(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { set(try ValueEncoderImpl.integer(value, path: codingPath + [key]), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(.int(Int64(value)), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(try ValueEncoderImpl.integer(value, path: codingPath + [key]), key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { set(try encoder.child(value, key: key), key) }

    // nil is written as None rather than left out, so a Python reader finds every field.
    mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }
    mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws { if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) } }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = EncodingNode(.dict([:]))
        set(child, key)
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(node: child, encoder: encoder, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = EncodingNode(.list([]))
        set(child, key)
        return UnkeyedContainer(node: child, encoder: encoder, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { superEncoder(named: "super", key: NameKey("super")) }

    mutating func superEncoder(forKey key: Key) -> any Encoder { superEncoder(named: key.stringValue, key: key) }

    private func superEncoder(named name: String, key: any CodingKey) -> any Encoder {
        let sub = ValueEncoderImpl(path: codingPath + [key], userInfo: encoder.userInfo)
        let placeholder = EncodingNode(.value(.none))
        set(placeholder, name)
        return DeferredEncoder(inner: sub, placeholder: placeholder)
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let node: EncodingNode
    let encoder: ValueEncoderImpl
    let codingPath: [any CodingKey]

    var count: Int {
        if case .list(let items) = node.content { return items.count }
        return 0
    }

    private func append(_ child: EncodingNode) {
        guard case .list(var items) = node.content else { return }
        node.content = .value(.none)
        items.append(child)
        node.content = .list(items)
    }
    private func append(_ value: Value) { append(EncodingNode(.value(value))) }

    mutating func encodeNil() throws { append(.none) }
    mutating func encode(_ value: Bool) throws { append(.bool(value)) }
    mutating func encode(_ value: String) throws { append(.string(value)) }
    mutating func encode(_ value: Double) throws { append(.double(value)) }
    mutating func encode(_ value: Float) throws { append(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int8) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { append(.int(value)) }
    mutating func encode(_ value: UInt) throws { append(try ValueEncoderImpl.integer(value, path: codingPath + [IndexKey(count)])) }
    mutating func encode(_ value: UInt8) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: UInt16) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: UInt32) throws { append(.int(Int64(value))) }
    mutating func encode(_ value: UInt64) throws { append(try ValueEncoderImpl.integer(value, path: codingPath + [IndexKey(count)])) }
    mutating func encode<T: Encodable>(_ value: T) throws { append(try encoder.child(value, key: IndexKey(count))) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = EncodingNode(.dict([:]))
        let path = codingPath + [IndexKey(count)]
        append(child)
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(node: child, encoder: encoder, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = EncodingNode(.list([]))
        let path = codingPath + [IndexKey(count)]
        append(child)
        return UnkeyedContainer(node: child, encoder: encoder, codingPath: path)
    }

    mutating func superEncoder() -> any Encoder {
        let sub = ValueEncoderImpl(path: codingPath + [IndexKey(count)], userInfo: encoder.userInfo)
        let placeholder = EncodingNode(.value(.none))
        append(placeholder)
        return DeferredEncoder(inner: sub, placeholder: placeholder)
    }
}

private struct SingleContainer: SingleValueEncodingContainer {
    let encoder: ValueEncoderImpl
    let codingPath: [any CodingKey]

    private func set(_ value: Value) { encoder.node = EncodingNode(.value(value)) }

    mutating func encodeNil() throws { set(.none) }
    mutating func encode(_ value: Bool) throws { set(.bool(value)) }
    mutating func encode(_ value: String) throws { set(.string(value)) }
    mutating func encode(_ value: Double) throws { set(.double(value)) }
    mutating func encode(_ value: Float) throws { set(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int8) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int16) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int32) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: Int64) throws { set(.int(value)) }
    mutating func encode(_ value: UInt) throws { set(try ValueEncoderImpl.integer(value, path: codingPath)) }
    mutating func encode(_ value: UInt8) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: UInt16) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: UInt32) throws { set(.int(Int64(value))) }
    mutating func encode(_ value: UInt64) throws { set(try ValueEncoderImpl.integer(value, path: codingPath)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        encoder.node = try EncodingNode.encode(value, path: codingPath, userInfo: encoder.userInfo)
    }
}

/// The encoder `superEncoder()` hands out: what it encodes lands in the placeholder node.
private final class DeferredEncoder: Encoder {
    let inner: ValueEncoderImpl
    let placeholder: EncodingNode

    init(inner: ValueEncoderImpl, placeholder: EncodingNode) {
        self.inner = inner
        self.placeholder = placeholder
    }

    var codingPath: [any CodingKey] { inner.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { inner.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        inner.node = placeholder
        placeholder.content = .dict([:])
        return inner.container(keyedBy: type)
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        inner.node = placeholder
        placeholder.content = .list([])
        return inner.unkeyedContainer()
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        DeferredSingle(placeholder: placeholder, inner: inner)
    }
}

/// A single value written through a super encoder: encoded, then moved into the placeholder.
private struct DeferredSingle: SingleValueEncodingContainer {
    let placeholder: EncodingNode
    let inner: ValueEncoderImpl
    var codingPath: [any CodingKey] { inner.codingPath }

    private func put(_ encode: (inout SingleContainer) throws -> Void) rethrows {
        var single = SingleContainer(encoder: inner, codingPath: inner.codingPath)
        try encode(&single)
        if let node = inner.node { placeholder.content = node.content }
    }

    mutating func encodeNil() throws { try put { try $0.encodeNil() } }
    mutating func encode(_ value: Bool) throws { try put { try $0.encode(value) } }
    mutating func encode(_ value: String) throws { try put { try $0.encode(value) } }
    mutating func encode(_ value: Double) throws { try put { try $0.encode(value) } }
    mutating func encode(_ value: Float) throws { try put { try $0.encode(value) } }
    mutating func encode(_ value: Int) throws { try put { try $0.encode(value) } }
    mutating func encode(_ value: Int8) throws { try put { try $0.encode(value) } }
    mutating func encode(_ value: Int16) throws { try put { try $0.encode(value) } }
    mutating func encode(_ value: Int32) throws { try put { try $0.encode(value) } }
    mutating func encode(_ value: Int64) throws { try put { try $0.encode(value) } }
    mutating func encode(_ value: UInt) throws { try put { try $0.encode(value) } }
    mutating func encode(_ value: UInt8) throws { try put { try $0.encode(value) } }
    mutating func encode(_ value: UInt16) throws { try put { try $0.encode(value) } }
    mutating func encode(_ value: UInt32) throws { try put { try $0.encode(value) } }
    mutating func encode(_ value: UInt64) throws { try put { try $0.encode(value) } }
    mutating func encode<T: Encodable>(_ value: T) throws { try put { try $0.encode(value) } }
}
