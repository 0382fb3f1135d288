import Foundation
import NIOCore
import OrderedCollections
import RosyTestSupport
import RosyWire
import XCTest

/// Runs one Python program of the test venv over a batch of input lines and returns its
/// output lines: one process per batch, not per value. The lines reach Python as its stdin,
/// through a file (a pipe could fill up both ways with large batches).
func runPythonBatch(_ script: String, lines: [String]) throws -> [String] {
    let folder = try TestSupport.temporaryDirectory("rosy-wire")
    defer { try? FileManager.default.removeItem(at: folder) }
    let inputFile = folder.appendingPathComponent("input.txt")
    try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: inputFile)
    let wrapped = "import sys\nsys.stdin = open(sys.argv[1], encoding='utf-8')\n" + script
    let result = try TestSupport.runPython(wrapped, [inputFile.path], timeout: 300)
    guard result.status == 0 else {
        throw TestSupportError("python failed (\(result.status)):\n\(result.stderr)")
    }
    return result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
}

/// Python helpers shared by the interop scripts: strict equality (types too, NaN equal to
/// itself, -0.0 apart from 0.0, sets in any order).
let pythonSame = """
import math
def same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a.keys()) == list(b.keys()) and all(same(a[k], b[k]) for k in a)
    return a == b

"""

extension Value {
    /// This value as a Python expression that evaluates to exactly it.
    var pythonExpression: String {
        switch self {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return "(\(i))"
        case .double(let d): return "struct.unpack('>d', bytes.fromhex('\(hex(withUnsafeBytes(of: d.bitPattern.bigEndian) { Array($0) }))'))[0]"
        case .string(let s): return "bytes.fromhex('\(hex(Array(s.utf8)))').decode()"
        case .bytes(let b): return "bytes.fromhex('\(hex(b))')"
        case .list(let items): return "[" + items.map(\.pythonExpression).joined(separator: ", ") + "]"
        case .tuple(let items): return "(" + items.map(\.pythonExpression).joined(separator: ", ") + (items.count == 1 ? ",)" : ")")
        case .set(let items): return items.isEmpty ? "set()" : "{" + items.map(\.pythonExpression).joined(separator: ", ") + "}"
        case .dict(let dict):
            return "{" + dict.map { "\($0.key.pythonExpression): \($0.value.pythonExpression)" }.joined(separator: ", ") + "}"
        }
    }

    /// Whether a set with more than one element is somewhere inside (Python orders those by hash).
    var holdsLargeSet: Bool {
        switch self {
        case .set(let s): return s.count > 1 || s.contains { $0.holdsLargeSet }
        case .list(let a), .tuple(let a): return a.contains { $0.holdsLargeSet }
        case .dict(let d): return d.contains { $0.key.holdsLargeSet || $0.value.holdsLargeSet }
        default: return false
        }
    }
}

/// Equality for tests: doubles by bit pattern (NaN equals NaN, -0.0 is not 0.0), sets in any order.
func identical(_ a: Value, _ b: Value) -> Bool {
    switch (a, b) {
    case (.double(let x), .double(let y)): return x.bitPattern == y.bitPattern || (x.isNaN && y.isNaN)
    case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
        return x.count == y.count && zip(x, y).allSatisfy { identical($0, $1) }
    case (.set(let x), .set(let y)):
        return x.count == y.count && x.allSatisfy { e in y.contains { identical(e, $0) } }
    case (.dict(let x), .dict(let y)):
        return x.count == y.count && zip(x, y).allSatisfy { identical($0.key, $1.key) && identical($0.value, $1.value) }
    default: return a == b
    }
}

func hex(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
    return String(decoding: out, as: UTF8.self)
}

func unhex(_ text: some StringProtocol) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(text.utf8.count / 2)
    var high: UInt8?
    for c in text.utf8 {
        let v: UInt8 = c <= 57 ? c - 48 : c - 87
        if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
    }
    return out
}

func encode(_ value: Value, with codec: some MessageCodec) throws -> [UInt8] {
    var buffer = ByteBuffer()
    try codec.encode(value, into: &buffer)
    return buffer.readBytes(length: buffer.readableBytes) ?? []
}

func decode(_ bytes: [UInt8], with codec: some MessageCodec) throws -> Value {
    var buffer = ByteBuffer(bytes: bytes)
    return try codec.decode(&buffer)
}

/// Values of every kind, for every codec's interop tests (each codec drops what it cannot carry).
enum SampleValues {
    static let ints: [Value] = [0, 1, 127, 128, 255, 256, 65535, 65536, -1, -32, -33, -128, -129, -256, -32768, -32769,
                                2_147_483_647, -2_147_483_648, 2_147_483_648, -2_147_483_649, 4_294_967_295, 4_294_967_296,
                                549_755_813_887, 549_755_813_888, -549_755_813_888, -549_755_813_889,
                                .int(Int64.max), .int(Int64.min), .int(Int64.max - 1), .int(Int64.min + 1)]
    static let doubles: [Value] = [0.0, -0.0, 1.0, 1.5, -2.25, 0.1, 1e100, 1e-7, 1e16, 1e15, 123456789.123, 2.5e-5, 1e-5, 1e-6,
                                   .double(.leastNonzeroMagnitude), 1.7976931348623157e308, 1234567890123456.8, 1e22, 3.14e-10, 100.0,
                                   .double(.infinity), .double(-.infinity), .double(.nan)]
    static let strings: [Value] = ["", "a", "é", "\u{0}", "hello", "hello world", "😀", "ü€😀 mixed",
                                   "\"quote\" \\ back / slash \u{7f} \u{2028}", "\n\t\r\u{8}\u{c}\u{1}\u{1f}", .string(String(repeating: "abcdefgh", count: 5) + "\n\"x\\" + String(repeating: "é😀", count: 9) + "\u{1f}end"),
                                   .string(String(repeating: "x", count: 31)), .string(String(repeating: "x", count: 32)),
                                   .string(String(repeating: "y", count: 255)), .string(String(repeating: "y", count: 256)),
                                   .string(String(repeating: "z", count: 65535)), .string(String(repeating: "z", count: 65536)),
                                   .string(String(repeating: "é", count: 40000))]
    static let bytes: [Value] = [.bytes([]), .bytes([0x78]), .bytes([0x80]), .bytes([0, 1, 2, 255]),
                                 .bytes(Array(repeating: 7, count: 255)), .bytes(Array(repeating: 7, count: 256)),
                                 .bytes(Array(repeating: 9, count: 65536)), .bytes(Array(repeating: 9, count: 70000))]
    static let containers: [Value] = [
        .tuple([]), .tuple([1]), .tuple([1, "x"]), .tuple([1, 2, 3]), .tuple([1, 2, 3, 4]),
        [], [1], [1, 2], .list((0..<15).map { .int($0) }), .list((0..<16).map { .int($0) }),
        .list((0..<1001).map { .int($0) }), .list((0..<2500).map { .int($0 * 1000) }),
        [:], ["a": 1], ["a": 1, "b": [1, 2]], ["key": ["nested": ["deep": nil]]],
        .dict(OrderedDictionary(uniqueKeysWithValues: (0..<16).map { (Value.string("k\($0)"), Value.int($0)) })),
        .dict(OrderedDictionary(uniqueKeysWithValues: (0..<1001).map { (Value.string("k\($0)"), Value.int($0)) })),
        ["a", "a", "", "", "é", "é"], .list([.bytes([]), .bytes([]), .bytes([1]), .bytes([1])]),
        .list(Array(repeating: .string(String(repeating: "w", count: 100)), count: 1500)),
        .tuple([1.5, .string(String(repeating: "A", count: 1000))]),
        ["mixed": .tuple([nil, true, false, 3, 4.5, "s", [1, [2, [3]]]])],
    ]
    static let sets: [Value] = [.set([]), .set([1]), .set(["one"]), .set([1, 2, 3]), .set(["a", "b", "c"]), [.set([.tuple([1, 2])])]]
    /// Short tuples of scalars (the one-access fast path) and their edges.
    static let shortTuples: [Value] = [
        .tuple([.double(1764000000.123456), ""]), .tuple([.double(1.5), .string(String(repeating: "A", count: 1000))]),
        .tuple([1.0, 2.0, 3.0]), .tuple([1.0, 2.0, 3.0, 4.0]), .tuple([nil]), .tuple([true, false, nil]),
        .tuple([0, 255, 256, 65535, 65536, -1, 2_147_483_647, -2_147_483_648]),
        .tuple([2_147_483_648]), .tuple([-2_147_483_649, 1]),
        .tuple(["", ""]), .tuple(["a", "a"]), .tuple(["a", "b", "a"]), .tuple(["é", "é"]), .tuple(["€", "€"]),
        .tuple([.bytes([]), .bytes([])]), .tuple([.bytes([7]), .bytes([7]), .bytes([8])]), .tuple([.bytes([]), ""]),
        .tuple([.string(String(repeating: "y", count: 255)), .string(String(repeating: "y", count: 256))]),
        .tuple([.bytes(Array(repeating: 1, count: 255)), .bytes(Array(repeating: 2, count: 256))]),
        .tuple([.string(String(repeating: "z", count: 20000))]),
        .tuple((0..<8).map { .int($0) }), .tuple((0..<9).map { .int($0) }),
        .tuple([1, .tuple([2])]), .tuple([1, [2]]), .tuple(["😀 ü", .bytes([0, 255]), 1e-300]),
    ]
    static let nonStringKeys: [Value] = [[1: "one", 2: "two"], [.tuple([1, 2]): nil, nil: true, 1.5: "x", .bytes([1]): 2]]
}
