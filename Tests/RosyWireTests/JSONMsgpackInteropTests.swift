import NIOCore
import OrderedCollections
import RosyTestSupport
import RosyWire
import XCTest

/// The json and msgpack codecs against orjson and msgpack-python, in both directions.
final class JSONMsgpackInteropTests: XCTestCase {
    static let allValues: [Value] = SampleValues.ints + SampleValues.doubles + SampleValues.strings + SampleValues.bytes
        + SampleValues.containers + SampleValues.sets + SampleValues.nonStringKeys + [.bool(true), .bool(false), .none]

    /// What a value becomes after a trip through the format: tuples are arrays (read as lists);
    /// JSON has no NaN or infinity (null).
    static func normalized(_ value: Value, json: Bool) -> Value {
        switch value {
        case .double(let d) where json && !d.isFinite: return .none
        case .list(let items), .tuple(let items): return .list(items.map { normalized($0, json: json) })
        case .dict(let dict):
            var out = OrderedDictionary<Value, Value>()
            for (k, v) in dict { out[normalized(k, json: json)] = normalized(v, json: json) }
            return .dict(out)
        default: return value
        }
    }

    /// For each value: Swift's encoding or its refusal, next to Python's (`ERR` when Python
    /// refuses); then Python reads Swift's bytes and Swift reads Python's.
    func check(_ codec: some MessageCodec, pythonDumps: String, pythonLoads: String) throws {
        let values = Self.allValues
        let encodings: [[UInt8]?] = values.map { try? encode($0, with: codec) }
        let script = pythonSame + """
        import sys, struct, orjson, msgpack
        def norm(x, json):
            if isinstance(x, (list, tuple)): return [norm(i, json) for i in x]
            if isinstance(x, dict): return {norm(k, json): norm(v, json) for k, v in x.items()}
            if json and isinstance(x, float) and (x != x or x in (float('inf'), float('-inf'))): return None
            return x
        for line in sys.stdin:
            data, expr = line.rstrip('\\n').split('\\t')
            obj = eval(expr)
            try:
                theirs = (\(pythonDumps))(obj).hex()
            except Exception:
                theirs = 'ERR'
            loaded = 'ERR'
            if data != 'ERR':
                try:
                    loaded = str(int(same((\(pythonLoads))(bytes.fromhex(data)), norm(obj, \(codec.name == "json" ? "True" : "False")))))
                except Exception as e:
                    loaded = 'unloadable'
            print(theirs, loaded)
        """
        let lines = zip(encodings, values).map { "\($0.map(hex) ?? "ERR")\t\($1.pythonExpression)" }
        let output = try runPythonBatch(script, lines: lines)
        XCTAssertEqual(output.count, values.count)
        for (index, line) in output.enumerated() {
            let parts = line.split(separator: " ").map(String.init)
            let value = values[index], name = value.pythonExpression.prefix(120)
            guard parts.count == 2 else { XCTFail("bad output line \(line.prefix(200))"); continue }
            XCTAssertEqual(encodings[index].map(hex) ?? "ERR", parts[0], "\(codec.name): bytes differ from Python's for \(name)")
            if encodings[index] != nil {
                // Python reads Swift's bytes back to the same data (only non-str keys may be unreadable).
                XCTAssert(parts[1] == "1" || (parts[1] == "unloadable" && SampleValues.nonStringKeys.contains(value)),
                          "\(codec.name): Python read something else (\(parts[1])) for \(name)")
            }
            if parts[0] != "ERR" {
                do {
                    let decoded = try decode(unhex(parts[0]), with: codec)
                    XCTAssert(identical(decoded, Self.normalized(value, json: codec.name == "json")),
                              "\(codec.name): Swift read Python's bytes for \(name) as \(String(describing: decoded).prefix(200))")
                } catch {
                    XCTFail("\(codec.name): Swift failed on Python's bytes for \(name): \(error)")
                }
            }
        }
    }

    func testJSONAgreesWithOrjson() throws {
        try check(JSONCodec(), pythonDumps: "orjson.dumps", pythonLoads: "orjson.loads")
    }

    func testMsgpackAgreesWithMsgpackPython() throws {
        try check(MsgpackCodec(), pythonDumps: "msgpack.packb", pythonLoads: "msgpack.unpackb")
    }

    /// JSON texts Python writes in other shapes (whitespace, escapes), and what Swift refuses.
    func testJSONReadsOtherWritersAndRefusesWhatItCannotHold() throws {
        let script = """
        import sys, json
        print(json.dumps({"a": [1, 2.5, None, True], "é": "\\u00e9😀", "e": "\\ud83d\\ude00"}, indent=2).encode().hex())
        print(json.dumps(["\\x00\\x1f", 1e300, -0.0, 12345678901234567]).encode().hex())
        """
        let output = try runPythonBatch(script, lines: [])
        XCTAssertEqual(try decode(unhex(output[0]), with: JSONCodec()), ["a": [1, 2.5, nil, true], "é": "é😀", "e": "😀"])
        XCTAssert(identical(try decode(unhex(output[1]), with: JSONCodec()), ["\u{0}\u{1f}", 1e300, -0.0, 12345678901234567]))
        let refused: [String] = ["9223372036854775808", "-9223372036854775809", "1e400", "NaN", "[1,]", "{\"a\" 1}", "\"\\ud800\"",
                                 "\"\u{1}\"", "01", "1.", "[1] x", "", "{1: 2}", "'a'"]
        for text in refused {
            XCTAssertThrowsError(try decode(Array(text.utf8), with: JSONCodec()), text) { XCTAssert($0 is CodecError) }
        }
        XCTAssertEqual(try decode(Array("-9223372036854775808".utf8), with: JSONCodec()), .int(Int64.min))
        XCTAssertEqual(try decode(Array(" {\"k\": 1, \"k\": 2} ".utf8), with: JSONCodec()), ["k": 2])
    }

    /// msgpack Python writes that Swift maps (float32) or refuses (ext types, big integers).
    func testMsgpackReadsFloat32AndRefusesExtTypes() throws {
        let script = """
        import msgpack, datetime
        print(msgpack.packb([1.5, 0.1], use_single_float=True).hex())
        print(msgpack.packb(msgpack.ExtType(5, b'x')).hex())
        print(msgpack.packb(msgpack.Timestamp(1, 2)).hex())
        print(msgpack.packb(2**64 - 1).hex())
        print(msgpack.packb({(1, 2): b'x'}).hex())
        """
        let output = try runPythonBatch(script, lines: [])
        XCTAssertEqual(try decode(unhex(output[0]), with: MsgpackCodec()), [1.5, .double(Double(Float(0.1)))])
        for blob in output[1...3] {
            XCTAssertThrowsError(try decode(unhex(blob), with: MsgpackCodec())) { XCTAssert($0 is CodecError, "\($0)") }
        }
        XCTAssertEqual(try decode(unhex(output[4]), with: MsgpackCodec()), [.list([1, 2]): .bytes([0x78])])
    }

    func testCodecsByName() throws {
        XCTAssertEqual(try MessageCodecs.named("pickle").name, "pickle")
        XCTAssertEqual(try MessageCodecs.named("json").name, "json")
        XCTAssertEqual(try MessageCodecs.named("msgpack").name, "msgpack")
        XCTAssertThrowsError(try MessageCodecs.named("yaml")) { error in
            XCTAssertEqual("\(error)", "yaml codec: unknown codec \"yaml\"; known codecs: pickle, json, msgpack")
        }
    }
}
