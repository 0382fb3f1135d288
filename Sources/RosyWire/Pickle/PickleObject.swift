import OrderedCollections

/// A global (a class or function) named in a pickle, such as `rosy.specs.MeshNodeSpec`.
///
/// The reader never imports or calls anything: a global is just its two names, and a pickle
/// may only name the globals its reader allows.
public struct PickleGlobal: Hashable, Sendable, CustomStringConvertible {
    public var module: String
    public var name: String

    /// `PickleGlobal("rosy.specs", "NodeId")`
    public init(_ module: String, _ name: String) {
        self.module = module
        self.name = name
    }

    public var description: String { "\(module).\(name)" }
}

/// A pickle as a tree: plain data, plus the few object-building steps (globals, `NEWOBJ`,
/// `REDUCE`, `BUILD`) that pickles of Python objects such as rosy's `MeshNodeSpec` or a
/// `datetime.datetime` use. Nothing in it is ever executed: ``PickleReader`` builds the
/// tree, the caller decides what it means, and ``PickleWriter`` writes one back.
///
/// The reader returns plain data in its most compact form: a subtree that holds no
/// object step comes back as one `.value` (`.value(.list([1, 2]))`, never
/// `.list([.value(1), .value(2)])`). The container cases hold the rest, and ``PickleWriter``
/// accepts either form. Integers beyond 64 bits are `.bigInt`.
///
/// Reading a `MeshNodeSpec`-shaped pickle (a dataclass is `NEWOBJ` of its class with no
/// arguments, then `BUILD` with its field dict):
///
/// ```swift
/// let reader = PickleReader(allowedGlobals: [
///     PickleGlobal("rosy.specs", "MeshNodeSpec"), PickleGlobal("rosy.specs", "NodeId"),
///     PickleGlobal("uuid", "UUID"), PickleGlobal("rosy.specs", "IpConnectionSpec"),
///     PickleGlobal("rosy.specs", "UnixConnectionSpec"), PickleGlobal("socket", "AddressFamily"),
/// ])
/// let spec = try reader.read(&buffer)
/// guard let (type, _, state) = spec.instance, type == PickleGlobal("rosy.specs", "MeshNodeSpec"),
///       let nodeID = state?["id"], let topics = state?["topics"]?.plainValue?.arrayValue
/// else { throw MyError.notASpec }
/// let uuidInt = nodeID.instance?.state?["uuid"]?.instance?.state?["int"]   // a .bigInt
/// let uuidBytes = uuidInt?.unsignedBigEndianBytes(count: 16)             // UUID's 16 bytes
/// ```
///
/// Writing one back (`socket.AddressFamily(2)` is `REDUCE` of the class on `(2,)`):
///
/// ```swift
/// let family = PickleObject.reduce(callable: .global("socket", "AddressFamily"), args: [2])
/// let spec = PickleObject.instance(of: PickleGlobal("rosy.specs", "IpConnectionSpec"),
///                                  state: .dict(["host": "box.local", "port": 4711, "family": family]))
/// var buffer = ByteBuffer()
/// PickleWriter().write(spec, into: &buffer)
/// ```
public indirect enum PickleObject: Hashable, Sendable {
    /// Plain data (possibly a whole subtree of it).
    case value(Value)
    /// An integer beyond 64 bits: little-endian two's complement bytes (any length; the
    /// reader gives the shortest). Python's `uuid.UUID` keeps its 128-bit `int` like this.
    case bigInt([UInt8])
    /// A class or function by name (`STACK_GLOBAL`, `GLOBAL`).
    case global(module: String, name: String)
    case list([PickleObject])
    case tuple([PickleObject])
    case dict(OrderedDictionary<PickleObject, PickleObject>)
    case set([PickleObject])
    /// `cls.__new__(cls, *args)`: `NEWOBJ`.
    case newObject(class: PickleObject, args: [PickleObject])
    /// `callable(*args)`: `REDUCE`.
    case reduce(callable: PickleObject, args: [PickleObject])
    /// `object.__setstate__(state)` or an update of its `__dict__`: `BUILD`.
    case build(object: PickleObject, state: PickleObject)
}

extension PickleObject {
    /// `.global(module:name:)` from a ``PickleGlobal``.
    public static func global(_ global: PickleGlobal) -> PickleObject {
        .global(module: global.module, name: global.name)
    }

    /// `.global(module:name:)` in short: `.global("uuid", "UUID")`.
    public static func global(_ module: String, _ name: String) -> PickleObject {
        .global(module: module, name: name)
    }

    /// What Python pickles for an instance of a plain class or dataclass:
    /// `NEWOBJ` of the class with `args`, then `BUILD` with `state` (usually the field dict).
    public static func instance(of type: PickleGlobal, args: [PickleObject] = [], state: PickleObject?) -> PickleObject {
        let object = PickleObject.newObject(class: .global(type), args: args)
        guard let state else { return object }
        return .build(object: object, state: state)
    }

    /// An integer of any size from its unsigned big-endian bytes (as `uuid.UUID.int` from the
    /// UUID's 16 bytes): `.value(.int)` when it fits in 64 bits, else `.bigInt`.
    public static func integer(unsignedBigEndian bytes: [UInt8]) -> PickleObject {
        var littleEndian = Array(bytes.reversed())
        littleEndian.append(0)  // sign byte: the number is not negative
        return integer(twosComplementLittleEndian: littleEndian)
    }

    /// An integer from little-endian two's complement bytes, in the reader's compact form.
    public static func integer(twosComplementLittleEndian bytes: [UInt8]) -> PickleObject {
        let minimal = PickleInteger.minimized(bytes)
        if let int = PickleInteger.int64(fromMinimal: minimal) { return .value(.int(int)) }
        return .bigInt(minimal)
    }

    /// The plain data this subtree holds, or nil if it holds a global or an object step.
    public var plainValue: Value? {
        switch self {
        case .value(let value): return value
        case .bigInt, .global, .newObject, .reduce, .build: return nil
        case .list(let items):
            var out: [Value] = []
            out.reserveCapacity(items.count)
            for item in items { guard let v = item.plainValue else { return nil }; out.append(v) }
            return .list(out)
        case .tuple(let items):
            var out: [Value] = []
            out.reserveCapacity(items.count)
            for item in items { guard let v = item.plainValue else { return nil }; out.append(v) }
            return .tuple(out)
        case .set(let items):
            var out = OrderedSet<Value>()
            for item in items { guard let v = item.plainValue else { return nil }; out.append(v) }
            return .set(out)
        case .dict(let entries):
            var out = OrderedDictionary<Value, Value>()
            for (key, value) in entries {
                guard let k = key.plainValue, let v = value.plainValue else { return nil }
                out[k] = v
            }
            return .dict(out)
        }
    }

    /// The global this is, if it is one.
    public var globalName: PickleGlobal? {
        if case .global(let module, let name) = self { return PickleGlobal(module, name) }
        return nil
    }

    /// An object built from a global: its class (or callable), the arguments it was built
    /// with, and the state `BUILD` gave it (nil if none). Matches `NEWOBJ` and `REDUCE` of a
    /// global, each optionally wrapped in `BUILD`.
    public var instance: (type: PickleGlobal, args: [PickleObject], state: PickleObject?)? {
        switch self {
        case .newObject(let type, let args), .reduce(let type, let args):
            guard let global = type.globalName else { return nil }
            return (global, args, nil)
        case .build(let object, let state):
            guard let inner = object.instance, inner.state == nil else { return nil }
            return (inner.type, inner.args, state)
        default:
            return nil
        }
    }

    /// The item under a string key of a dict (in either form).
    public subscript(key: String) -> PickleObject? {
        switch self {
        case .dict(let entries): return entries[.value(.string(key))]
        case .value(.dict(let entries)): return entries[.string(key)].map(PickleObject.value)
        default: return nil
        }
    }

    /// The items of a list, tuple or set (in either form).
    public var elements: [PickleObject]? {
        switch self {
        case .list(let items), .tuple(let items), .set(let items): return items
        case .value(let value): return value.arrayValue?.map(PickleObject.value)
        default: return nil
        }
    }

    /// An integer (`.value(.int)` or `.bigInt`) as little-endian two's complement bytes.
    public var twosComplementLittleEndianBytes: [UInt8]? {
        switch self {
        case .bigInt(let bytes): return bytes
        case .value(.int(let int)): return PickleInteger.bytes(of: int)
        case .value(.bool(let bool)): return [bool ? 1 : 0]
        default: return nil
        }
    }

    /// A non-negative integer as exactly `count` big-endian bytes (e.g. `uuid.UUID.int` as the
    /// UUID's 16 bytes), or nil if it is negative or does not fit.
    public func unsignedBigEndianBytes(count: Int) -> [UInt8]? {
        guard var bytes = twosComplementLittleEndianBytes else { return nil }
        if let last = bytes.last, last & 0x80 != 0 { return nil }  // negative
        while bytes.count > count, bytes.last == 0 { bytes.removeLast() }
        guard bytes.count <= count else { return nil }
        bytes.append(contentsOf: repeatElement(0, count: count - bytes.count))
        return bytes.reversed()
    }
}

extension PickleObject: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral
{
    public init(nilLiteral: ()) { self = .value(.none) }
    public init(booleanLiteral value: Bool) { self = .value(.bool(value)) }
    public init(integerLiteral value: Int64) { self = .value(.int(value)) }
    public init(floatLiteral value: Double) { self = .value(.double(value)) }
    public init(stringLiteral value: String) { self = .value(.string(value)) }
    /// An array literal is a list.
    public init(arrayLiteral elements: PickleObject...) { self = .list(elements) }
}

/// Integer helpers shared by the pickle reader and writer.
enum PickleInteger {
    /// Two's complement little-endian bytes of `value`, as few as hold it (what LONG1 carries).
    static func bytes(of value: Int64) -> [UInt8] {
        var out: [UInt8] = []
        var v = value
        while true {
            let byte = UInt8(truncatingIfNeeded: v)
            out.append(byte)
            v >>= 8
            if (v == 0 && byte & 0x80 == 0) || (v == -1 && byte & 0x80 != 0) { return out }
        }
    }

    /// The fewest little-endian two's complement bytes of the same number (none for zero:
    /// a LONG1 of length 0 is 0).
    static func minimized(_ bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        while out.count > 1 {
            let top = out[out.count - 1], next = out[out.count - 2]
            if (top == 0 && next & 0x80 == 0) || (top == 0xFF && next & 0x80 != 0) {
                out.removeLast()
            } else {
                break
            }
        }
        if out.count == 1 && out[0] == 0 { return [] }
        return out
    }

    /// The value of minimal little-endian two's complement bytes, if it fits in 64 bits.
    static func int64(fromMinimal bytes: [UInt8]) -> Int64? {
        guard bytes.count <= 8 else { return nil }
        return int64(littleEndian: bytes[...])
    }

    /// Sign-extends up to 8 little-endian two's complement bytes.
    static func int64(littleEndian bytes: ArraySlice<UInt8>) -> Int64 {
        guard let last = bytes.last else { return 0 }
        var v: UInt64 = last & 0x80 != 0 ? ~0 : 0
        for b in bytes.reversed() { v = (v << 8) | UInt64(b) }
        return Int64(bitPattern: v)
    }
}
