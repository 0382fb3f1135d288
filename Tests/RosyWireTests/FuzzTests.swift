import NIOCore
import RosyWire
import XCTest

/// Random, truncated and mutated bytes into every decoder: each answers with a value or a
/// CodecError, never a crash, a hang or another error.
final class FuzzTests: XCTestCase {
    /// A small deterministic generator (SplitMix64), so that a failure can be replayed.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static var codecs: [any MessageCodec] { MessageCodecs.all }

    /// Values whose encodings seed the mutations.
    static let seeds: [Value] = [
        nil, true, 42, -7, .int(Int64.max), 1.5, "hello", .bytes([1, 2, 3]), [1, "two", 3.0],
        .tuple([1, .tuple([2, 3])]), ["a": [1, 2], "b": ["c": nil]], [.list([]), .dict([:]), "x", -300, 70000],
        .list((0..<40).map { .int($0 * 1_000_003) }), ["k": .string(String(repeating: "é", count: 300))],
    ]

    func decodeOutcome(_ bytes: [UInt8], _ codec: any MessageCodec, file: StaticString = #filePath, line: UInt = #line) -> Bool {
        var buffer = ByteBuffer(bytes: bytes)
        do {
            _ = try codec.decode(&buffer)
            return true
        } catch is CodecError {
            return false
        } catch {
            XCTFail("\(codec.name): \(hex(bytes)) threw \(type(of: error)), not a CodecError: \(error)", file: file, line: line)
            return false
        }
    }

    func testRandomBytes() {
        var rng = SeededGenerator(state: 0x5EED)
        for codec in Self.codecs {
            for _ in 0..<3000 {
                let count = Int.random(in: 0...64, using: &rng)
                let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
                _ = decodeOutcome(bytes, codec)
            }
        }
    }

    /// Random bytes that start like the codec's own data, so the decoder gets further in.
    func testRandomBytesBehindAValidStart() {
        var rng = SeededGenerator(state: 0xF00D)
        let opcodeHeavy: [UInt8] = [0x28, 0x2E, 0x30, 0x31, 0x32, 0x4A, 0x4B, 0x4D, 0x4E, 0x52, 0x5D, 0x61, 0x62, 0x65, 0x68, 0x6A, 0x71,
                                    0x73, 0x74, 0x29, 0x75, 0x7D, 0x85, 0x86, 0x87, 0x88, 0x8A, 0x8B, 0x8C, 0x8F, 0x90, 0x91, 0x93, 0x94, 0x95]
        for _ in 0..<5000 {
            var bytes: [UInt8] = [0x80, 5]
            for _ in 0..<Int.random(in: 1...40, using: &rng) {
                bytes.append(Bool.random(using: &rng) ? opcodeHeavy.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng))
            }
            _ = decodeOutcome(bytes, PickleCodec())
        }
        let jsonPieces = ["[", "]", "{", "}", ",", ":", "\"", "\\", "1", "-", ".", "e", "true", "null", "\"k\"", "0", "9999999999999999999", "\\u", "d83d", " "]
        for _ in 0..<3000 {
            let text = (0..<Int.random(in: 1...20, using: &rng)).map { _ in jsonPieces.randomElement(using: &rng)! }.joined()
            _ = decodeOutcome(Array(text.utf8), JSONCodec())
        }
    }

    /// Every strict prefix of a valid encoding is an error (none holds a whole value), and
    /// every one-byte change is a value or an error.
    func testTruncatedAndMutatedEncodings() throws {
        var rng = SeededGenerator(state: 0xC0DEC)
        for codec in Self.codecs {
            for seed in Self.seeds {
                guard let bytes = try? encode(seed, with: codec) else { continue }
                for end in 0..<bytes.count where !(codec.name == "json" && Self.jsonPrefixIsValue(bytes, end)) {
                    XCTAssertFalse(decodeOutcome(Array(bytes[..<end]), codec), "\(codec.name): prefix \(end) of \(seed) decoded")
                }
                for _ in 0..<200 {
                    var mutated = bytes
                    mutated[Int.random(in: 0..<mutated.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                    _ = decodeOutcome(mutated, codec)
                }
            }
        }
    }

    /// A pickle cut short says so ("truncated pickle: ..."): the bag reader relies on that
    /// prefix to tell a file cut off mid-write from a damaged one.
    func testTruncatedPicklesSayTruncated() throws {
        let objects: [PickleObject] = Self.seeds.map(PickleObject.value) + [
            .tuple([.reduce(callable: .global("datetime", "datetime"), args: [.value(.bytes(Array(repeating: 1, count: 10)))]),
                    "topic", .value(.tuple([1, "x"])), .value(["k": 2.5])]),
            .instance(of: PickleGlobal("uuid", "UUID"), state: .dict(["int": .integer(unsignedBigEndian: Array(repeating: 0xEE, count: 16))])),
        ]
        let reader = PickleReader(allowedGlobals: [PickleGlobal("datetime", "datetime"), PickleGlobal("uuid", "UUID")])
        for object in objects {
            let bytes = PickleWriter().bytes(of: object)
            XCTAssertEqual(try reader.read(bytes), object)
            for end in 0..<bytes.count {
                XCTAssertThrowsError(try reader.read(Array(bytes[..<end]))) { error in
                    XCTAssert((error as? CodecError)?.message.hasPrefix("truncated pickle") == true, "\(error)")
                }
            }
        }
    }

    /// A JSON number cut short is still a number ("42" -> "4").
    static func jsonPrefixIsValue(_ bytes: [UInt8], _ end: Int) -> Bool {
        end > 0 && bytes[..<end].allSatisfy { (0x30...0x39).contains($0) || $0 == 0x2D || $0 == 0x2E || $0 == 0x65 } && bytes[end - 1] != 0x2D
            && bytes[end - 1] != 0x2E && bytes[end - 1] != 0x65
    }

    /// Hostile shapes: deep nesting, huge claimed lengths, memo bombs.
    func testHostileShapes() {
        var deepPickle: [UInt8] = [0x80, 5]
        deepPickle += Array(repeating: 0x5D, count: 100_000)               // EMPTY_LIST x 100000
        deepPickle += Array(repeating: 0x61, count: 99_999) + [0x2E]       // APPEND ... STOP
        XCTAssertFalse(decodeOutcome(deepPickle, PickleCodec()))
        var bomb: [UInt8] = [0x80, 5, 0x5D, 0x94]                          // [] memo 0
        for i in 0..<40 {                                                  // [m_i, m_i] memo i+1
            bomb += [0x68, UInt8(i), 0x68, UInt8(i), 0x86, 0x94]
        }
        bomb.append(0x2E)
        XCTAssertFalse(decodeOutcome(bomb, PickleCodec()))
        XCTAssertFalse(decodeOutcome([0x80, 5, 0x8D] + Array(repeating: 0xFF, count: 8), PickleCodec()))  // BINUNICODE8 of 2^64-1
        XCTAssertFalse(decodeOutcome([0x80, 5, 0x5D, 0x72, 0xFF, 0xFF, 0xFF, 0x7F, 0x2E], PickleCodec()))   // LONG_BINPUT 2^31
        XCTAssertFalse(decodeOutcome([0x80, 5, 0x5D, 0x94, 0x68, 0, 0x61, 0x2E], PickleCodec()))          // a list holding itself
        XCTAssertFalse(decodeOutcome(Array(repeating: 0x5B, count: 100_000), JSONCodec()))
        XCTAssertFalse(decodeOutcome(Array(repeating: 0x91, count: 100_000) + [0xC0], MsgpackCodec()))
        XCTAssertFalse(decodeOutcome([0xDD, 0xFF, 0xFF, 0xFF, 0xFF], MsgpackCodec()))                     // array32 of 2^32-1
        XCTAssertFalse(decodeOutcome([0xDB, 0xFF, 0xFF, 0xFF, 0xFF, 0x61], MsgpackCodec()))
    }
}

/// Inputs the fuzz targets (fuzz/run) found crashing a reader, each fixed; the files are in
/// fuzz/regressions/<target>/ and replayed by CorpusReplayTests too.
final class FuzzRegressionTests: XCTestCase {
    /// A protocol-0 `PUT` with a negative memo index (`p-3\n`) trapped on the memo array.
    func testAPickleThatPutsAtANegativeMemoIndexIsACodecError() throws {
        let bytes = Array("(lp0\n(dp-3\na.".utf8)
        XCTAssertThrowsError(try PickleReader().readValue(bytes)) { error in
            XCTAssertTrue("\(error)".contains("negative"), "\(error)")
        }
        XCTAssertThrowsError(try PickleReader().read(bytes))
    }
}
