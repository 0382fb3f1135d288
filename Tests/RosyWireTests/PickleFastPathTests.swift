import NIOCore
import RosyTestSupport
@testable import RosyWire
import XCTest

/// Large messages as Python pickles them (protocol 4 and 5 end a frame before a large str
/// or bytes and start another after it) take the fast path, and read as the general
/// machine reads them.
final class PickleFastPathTests: XCTestCase {
    /// Python expressions and the values they make, the shapes `rosy speedtest` sends.
    let cases: [(expression: String, value: Value)] = [
        ("(1.5, 'A' * 1_048_576)", .tuple([.double(1.5), .string(String(repeating: "A", count: 1 << 20))])),
        ("(2.5, 'é' * 70_000)", .tuple([.double(2.5), .string(String(repeating: "é", count: 70_000))])),
        ("('x' * 100_000, 7, b'\\x01' * 90_000)", .tuple([
            .string(String(repeating: "x", count: 100_000)), .int(7), .bytes(Array(repeating: 1, count: 90_000)),
        ])),
        ("'B' * 300_000", .string(String(repeating: "B", count: 300_000))),
    ]

    private func pythonPickles() throws -> [[[UInt8]]] {
        let script = """
        import sys, pickle
        for line in sys.stdin:
            obj = eval(line)
            print(' '.join(pickle.dumps(obj, protocol=p).hex() for p in (4, 5)))
        """
        let output = try runPythonBatch(script, lines: cases.map(\.expression))
        XCTAssertEqual(output.count, cases.count)
        return output.map { line in line.split(separator: " ").map { unhex($0) } }
    }

    func testLargePythonPicklesTakeTheFastPath() throws {
        for (index, pickles) in try pythonPickles().enumerated() {
            for pickle in pickles {
                if index == 0 {
                    // PROTO, FRAME, the float, BINUNICODE (outside frames), FRAME, TUPLE2 ...
                    XCTAssertEqual(pickle[2], PickleOpcode.frame)
                    XCTAssertEqual(pickle[pickle.count - 13], PickleOpcode.frame, "a frame after the string")
                }
                let fast = pickle.withUnsafeBytes { PickleFastPath.read($0) }
                XCTAssertNotNil(fast, "fast path for \(cases[index].expression)")
                XCTAssertEqual(fast?.value, cases[index].value)
                XCTAssertEqual(fast?.consumed, pickle.count)
                var machine = PickleMachine(allowed: nil, maxDepth: 100)
                let general = try pickle.withUnsafeBytes { bytes -> Value in
                    let (root, _) = try machine.run(bytes)
                    machine.budget = machine.arena.count + 1_000_000
                    return try machine.value(of: root)
                }
                XCTAssertEqual(general, cases[index].value)
            }
        }
    }

    /// A large string with a byte that is not UTF-8 is refused (the fast path leaves it to
    /// the machine, which reports it).
    func testInvalidUTF8InALargeStringIsAnError() throws {
        guard var pickle = try pythonPickles().first?.first else { return XCTFail("no pickle") }
        pickle[pickle.count / 2] = 0xFF
        XCTAssertNil(pickle.withUnsafeBytes { PickleFastPath.read($0) })
        var buffer = ByteBuffer(bytes: pickle)
        XCTAssertThrowsError(try PickleCodec().decode(&buffer))
    }

    /// A frame that claims more bytes than there are is not taken by the fast path.
    func testAFrameLongerThanThePickleIsNotTaken() throws {
        guard var pickle = try pythonPickles().first?.first else { return XCTFail("no pickle") }
        let lastFrame = try XCTUnwrap(pickle.indices.last { pickle[$0] == PickleOpcode.frame && $0 > 2 })
        pickle[lastFrame + 1] = 0xFF
        pickle[lastFrame + 8] = 0x7F
        XCTAssertNil(pickle.withUnsafeBytes { PickleFastPath.read($0) })
    }
}
