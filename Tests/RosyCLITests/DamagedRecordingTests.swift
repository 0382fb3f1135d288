import Foundation
import RosyTestSupport
import RosyWire
import XCTest

@testable import RosyCLI

/// Damaged recordings give an error or the messages before the damage: never a crash.
final class DamagedRecordingTests: XCTestCase {
    private func sample(_ format: RecordingFormat, in dir: URL) throws -> [UInt8] {
        let path = dir.appendingPathComponent("sample.\(format.fileExtension)").path
        let writer = format == .mcap
            ? try MCAPRecordingWriter(path: path, topics: ["a", "b"], chunkSizeLimit: 300) as RecordingWriter
            : try RosyBagWriter(path: path)
        for i in 0..<12 {
            try writer.append(RecordedMessage(time: 1_700_000_000_000_000_000 + Int64(i) * 1_000_000, topic: i % 2 == 0 ? "a" : "b",
                                              args: [.int(Int64(i)), .string(String(repeating: "x", count: i)), .list([.double(0.5), .none])],
                                              kwargs: ["k": .tuple([.bool(true), .bytes([1, 2])])]))
        }
        try writer.finish()
        return [UInt8](try XCTUnwrap(FileManager.default.contents(atPath: path)))
    }

    func testEveryTruncationReadsOrFailsCleanly() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for format in RecordingFormat.allCases {
            let bytes = try sample(format, in: dir)
            var lastCount = 0
            for length in 0...bytes.count {
                if let recording = try? Recording(bytes: Array(bytes.prefix(length)), path: "cut") {
                    // Complete means every message is there (an MCAP file may lose its summary).
                    // (A .bag cut between two pickles is a complete shorter bag.)
                    if recording.isComplete, format == .mcap { XCTAssertEqual(recording.messages.count, 12, "\(format) at \(length)") }
                    XCTAssertGreaterThanOrEqual(recording.messages.count, lastCount, "\(format): fewer messages from a longer prefix")
                    lastCount = recording.messages.count
                }
            }
            XCTAssertEqual(lastCount, 12, "\(format)")
        }
    }

    func testFlippedBytesReadOrFailCleanly() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var generator = SystemRandomNumberGenerator()
        for format in RecordingFormat.allCases {
            let bytes = try sample(format, in: dir)
            var rejected = 0
            for _ in 0..<2000 {
                var damaged = bytes
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    damaged[Int.random(in: 0..<damaged.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
                do {
                    let recording = try Recording(bytes: damaged, path: "flipped")
                    XCTAssertLessThanOrEqual(recording.messages.count, 12)
                } catch {
                    rejected += 1
                    XCTAssertFalse("\(error)".isEmpty)
                }
            }
            // Checksums (MCAP) and pickle structure (.bag) catch most damage.
            XCTAssertGreaterThan(rejected, 500, "\(format)")
        }
    }
}

/// Inputs the MCAP fuzz target (fuzz/run) found, each fixed; the files are in
/// fuzz/regressions/mcap/ and replayed by CorpusReplayTests too.
final class MCAPFuzzRegressionTests: XCTestCase {
    /// A zstd chunk of a few hundred bytes that claims 256 MiB uncompressed: refused before
    /// the 256 MiB are allocated (it was, and libFuzzer reported out-of-memory).
    func testAChunkThatClaimsMoreThanItsBytesCanHoldIsRefused() throws {
        let file = TestSupport.packageRoot.appendingPathComponent("fuzz/regressions/mcap/chunk-claims-256-mib-uncompressed")
        let bytes = Array(try Data(contentsOf: file))
        XCTAssertThrowsError(try RecordingReaders.readMCAP(bytes)) { error in
            XCTAssertTrue("\(error)".contains("cannot hold"), "\(error)")
        }
        XCTAssertThrowsError(try MCAPCompression.zstd.decompress([1, 2, 3], size: 1 << 30))
        XCTAssertThrowsError(try MCAPCompression.lz4.decompress([1, 2, 3], size: 1 << 20))
    }
}
