import NIOCore
import OrderedCollections
import RosyTestSupport
@testable import RosyWire
import XCTest

/// The pickle codec against Python's own `pickle`, in both directions.
final class PickleInteropTests: XCTestCase {
    static let allValues = SampleValues.ints + SampleValues.doubles + SampleValues.strings + SampleValues.bytes
        + SampleValues.containers + SampleValues.shortTuples + SampleValues.sets + SampleValues.nonStringKeys + [.bool(true), .bool(false), .none]

    /// Swift writes; Python loads an equal object and dumps the very same bytes again.
    func testPythonLoadsWhatSwiftWritesAndDumpsTheSameBytes() throws {
        let values = Self.allValues
        let pickles = try values.map { try encode($0, with: PickleCodec()) }
        let script = pythonSame + """
        import sys, pickle, struct
        for line in sys.stdin:
            data, expr = line.rstrip('\\n').split('\\t')
            obj = pickle.loads(bytes.fromhex(data))
            print(int(same(obj, eval(expr))), pickle.dumps(obj, protocol=5).hex())
        """
        let lines = zip(pickles, values).map { "\(hex($0))\t\($1.pythonExpression)" }
        let output = try runPythonBatch(script, lines: lines)
        XCTAssertEqual(output.count, values.count)
        for (index, line) in output.enumerated() {
            let parts = line.split(separator: " ")
            let value = values[index]
            XCTAssertEqual(parts.first, "1", "Python loaded something else for \(value.pythonExpression.prefix(200))")
            if !value.holdsLargeSet {
                XCTAssertEqual(hex(pickles[index]), String(parts.last ?? ""), "bytes differ from Python's for \(value.pythonExpression.prefix(200))")
            }
        }
    }

    /// Python writes with protocols 2 to 5; Swift reads the same values.
    func testSwiftReadsWhatPythonWritesInProtocols2To5() throws {
        var values = Self.allValues
        var expressions = values.map(\.pythonExpression)
        // Kinds only Python makes.
        values += [.set([1, 2, 3]), .bytes([0x61, 0x62]), .bytes([]), .int(Int64.max), .string("ascii"),
                   [[1, "x"], [1, "x"], ["k": [1, "x"]]], .tuple([.set([]), .set([])])]
        expressions += ["frozenset({1, 2, 3})", "bytearray(b'ab')", "bytearray()", "2**63 - 1", "'ascii'",
                        "(lambda a: [a, a, {'k': a}])([1, 'x'])", "(lambda s: (s, s))(set())"]  // shared objects (BINGET)
        let script = """
        import sys, pickle, struct
        for line in sys.stdin:
            obj = eval(line)
            print(' '.join(pickle.dumps(obj, protocol=p).hex() for p in (2, 3, 4, 5)))
        """
        let output = try runPythonBatch(script, lines: expressions)
        XCTAssertEqual(output.count, values.count)
        for (index, line) in output.enumerated() {
            for (protocolIndex, blob) in line.split(separator: " ").enumerated() {
                do {
                    let decoded = try decode(unhex(blob), with: PickleCodec())
                    XCTAssert(identical(decoded, values[index]),
                              "protocol \(protocolIndex + 2): \(expressions[index].prefix(200)) read as \(String(describing: decoded).prefix(200))")
                } catch {
                    XCTFail("protocol \(protocolIndex + 2): \(expressions[index].prefix(200)): \(error)")
                }
            }
        }
    }

    /// Integers Python writes beyond 64 bits are a clear error, not a crash or a wrong number.
    func testIntegersBeyond64BitsAreRefused() throws {
        let script = """
        import sys, pickle
        for line in sys.stdin:
            print(pickle.dumps(eval(line), protocol=5).hex())
        """
        let expressions = ["2**63", "-2**63 - 1", "2**64", "[1, 2**100]", "10**1000"]
        let output = try runPythonBatch(script, lines: expressions)
        for (expression, blob) in zip(expressions, output) {
            XCTAssertThrowsError(try decode(unhex(blob), with: PickleCodec()), expression) { error in
                XCTAssertEqual((error as? CodecError)?.message, "integer does not fit in 64 bits")
            }
        }
    }

    /// A pickle that would run code when Python loads it is refused, naming the global.
    func testGlobalsAreRefusedAndNeverRun() throws {
        let script = """
        import sys, pickle, os, collections, datetime
        class Evil:
            def __reduce__(self):
                return (os.system, ('touch /tmp/rosy-pickle-was-run',))
        for p in (2, 3, 4, 5):
            print(pickle.dumps(Evil(), protocol=p).hex())
        print(pickle.dumps(collections.OrderedDict(a=1), protocol=5).hex())
        print(pickle.dumps(datetime.datetime(2024, 1, 2), protocol=5).hex())
        print(pickle.dumps([1, Evil()], protocol=5).hex())
        """
        let output = try runPythonBatch(script, lines: [])
        XCTAssertEqual(output.count, 7)
        for blob in output {
            XCTAssertThrowsError(try decode(unhex(blob), with: PickleCodec())) { error in
                guard let error = error as? CodecError else { return XCTFail("not a CodecError: \(error)") }
                XCTAssertEqual(error.codec, "pickle")
                XCTAssert(error.message.contains("refers to global"), error.message)
            }
        }
        XCTAssertThrowsError(try decode(unhex(output[0]), with: PickleCodec())) { error in
            XCTAssert("\(error)".contains("system"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/tmp/rosy-pickle-was-run"))
    }
}
