#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore
import RosyTestSupport
import RosyWire
import XCTest

/// Codable structs to values and back, and through Python for real.
final class CodableBridgeTests: XCTestCase {
    enum Mode: String, Codable { case fast, careful }

    struct Pose: Codable, Equatable {
        var x: Double
        var y: Double
        var label: String?
        var tags: [String]
        var mode: Mode
        var blob: [UInt8]
        var data: Data
        var counts: [String: Int]
        var nested: [Pose]
        var extra: Value
        var small: UInt8
        var ratio: Float
        var time: Date
    }

    static let pose = Pose(
        x: 1.5, y: -2, label: nil, tags: ["a", "b"], mode: .careful, blob: [1, 2, 255], data: Data([9, 8]),
        counts: ["one": 1], nested: [Pose(x: 0, y: 0, label: "inner", tags: [], mode: .fast, blob: [], data: Data(),
                                          counts: [:], nested: [], extra: nil, small: 0, ratio: 0, time: Date(timeIntervalSince1970: 0))],
        extra: ["free": .tuple([1, "form"])], small: 200, ratio: 0.5, time: Date(timeIntervalSince1970: 1_732_540_000.25))

    func testStructToValueAndBack() throws {
        let value = try Value(encoding: Self.pose)
        guard case .dict(let dict) = value else { return XCTFail("not a dict: \(value)") }
        XCTAssertEqual(dict["x"], 1.5)
        XCTAssertEqual(dict["label"], Value.none, "nil is kept as None")
        XCTAssertEqual(dict["tags"], ["a", "b"])
        XCTAssertEqual(dict["mode"], "careful")
        XCTAssertEqual(dict["blob"], .bytes([1, 2, 255]))
        XCTAssertEqual(dict["data"], .bytes([9, 8]))
        XCTAssertEqual(dict["counts"], ["one": 1])
        XCTAssertEqual(dict["extra"], ["free": .tuple([1, "form"])])
        XCTAssertEqual(dict["time"], 1_732_540_000.25, "a Date is seconds since 1970, as Python's time.time()")
        XCTAssertEqual(try value.decode(Pose.self), Self.pose)
    }

    func testLenientNumbersAndClearErrors() throws {
        struct Numbers: Codable, Equatable { var d: Double; var i: Int; var o: Int? }
        XCTAssertEqual(try (["d": 3, "i": 4.0] as Value).decode(Numbers.self), Numbers(d: 3, i: 4, o: nil))
        XCTAssertThrowsError(try (["d": 3, "i": 4.5] as Value).decode(Numbers.self))
        XCTAssertThrowsError(try (["d": "x", "i": 4] as Value).decode(Numbers.self)) { error in
            guard case DecodingError.typeMismatch(_, let context)? = error as? DecodingError else { return XCTFail("\(error)") }
            XCTAssertEqual(context.codingPath.map(\.stringValue), ["d"])
        }
        XCTAssertThrowsError(try (["d": 1] as Value).decode(Numbers.self)) { error in
            guard case DecodingError.keyNotFound(let key, _)? = error as? DecodingError else { return XCTFail("\(error)") }
            XCTAssertEqual(key.stringValue, "i")
        }
        XCTAssertThrowsError(try Value(encoding: [UInt64.max]))
        XCTAssertEqual(try Value(encoding: [1, 2, 3]), [1, 2, 3])
        XCTAssertEqual(try Value(encoding: "s"), "s")
        XCTAssertEqual(try Value(encoding: Optional<Int>.none), nil)
        XCTAssertEqual(try ([1, 2] as Value).decode([Int].self), [1, 2])
        XCTAssertEqual(try Value.tuple([1, 2]).decode([Int].self), [1, 2])
    }

    /// Value itself through Foundation's JSON coders (its own Codable conformance).
    func testValueIsCodableForOtherCoders() throws {
        let value: Value = ["a": [1, 2.5, "x", nil, true], "b": ["c": []]]
        let data = try JSONEncoder().encode(value)
        let back = try JSONDecoder().decode(Value.self, from: data)
        XCTAssertEqual(back.dictValue?.count, 2)  // JSONDecoder does not keep key order
        XCTAssertEqual(back.dictValue?["a"], [1, 2.5, "x", nil, true])
        XCTAssertEqual(back.dictValue?["b"], ["c": []])
    }

    /// A struct encoded in Swift reaches Python as the dict a Python node expects, with each
    /// codec; a dict from Python decodes into the struct.
    func testStructsThroughPython() throws {
        struct Reading: Codable, Equatable { var sensor: String; var values: [Double]; var ok: Bool; var note: String? }
        let reading = Reading(sensor: "lidar", values: [1, 2.5], ok: true, note: nil)
        let value = try Value(encoding: reading)
        var lines: [String] = []
        for codec in MessageCodecs.all { lines.append("\(codec.name) \(hex(try encode(value, with: codec)))") }
        let script = """
        import sys, pickle, orjson, msgpack
        loads = {'pickle': pickle.loads, 'json': orjson.loads, 'msgpack': msgpack.unpackb}
        dumps = {'pickle': lambda o: pickle.dumps(o, protocol=5), 'json': orjson.dumps, 'msgpack': msgpack.packb}
        for line in sys.stdin:
            name, data = line.split()
            obj = loads[name](bytes.fromhex(data))
            ok = obj == {'sensor': 'lidar', 'values': [1.0, 2.5], 'ok': True, 'note': None}
            print(name, int(ok), dumps[name]({'sensor': 'radar', 'values': [3, 4.5], 'ok': False, 'note': 'hi'}).hex())
        """
        let output = try runPythonBatch(script, lines: lines)
        XCTAssertEqual(output.count, 3)
        for line in output {
            let parts = line.split(separator: " ")
            XCTAssertEqual(parts[1], "1", "Python read another dict with \(parts[0])")
            let codec = try MessageCodecs.named(String(parts[0]))
            let back = try decode(unhex(parts[2]), with: codec).decode(Reading.self)
            XCTAssertEqual(back, Reading(sensor: "radar", values: [3, 4.5], ok: false, note: "hi"))
        }
    }
}
