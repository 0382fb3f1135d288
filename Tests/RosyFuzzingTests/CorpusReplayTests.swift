import Foundation
import RosyFuzzing
import RosyTestSupport
import XCTest

/// Every file of fuzz/corpus/<target>/ and fuzz/regressions/<target>/ through its fuzz
/// target, as `fuzz/run` feeds libFuzzer's inputs: inputs that once crashed a reader stay
/// fixed in the normal `swift test`, without a sanitizer build.
final class CorpusReplayTests: XCTestCase {
    static let fuzzFolder = TestSupport.packageRoot.appendingPathComponent("fuzz")

    /// The files of one target's folder under `kind` (corpus or regressions), by name.
    static func inputs(_ kind: String, _ target: FuzzTarget) throws -> [URL] {
        let folder = fuzzFolder.appendingPathComponent(kind).appendingPathComponent(target.rawValue)
        guard FileManager.default.fileExists(atPath: folder.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    func testEveryTargetHasASeedCorpus() throws {
        for target in FuzzTarget.allCases {
            XCTAssertGreaterThanOrEqual(try Self.inputs("corpus", target).count, 5, "fuzz/corpus/\(target.rawValue)")
        }
    }

    func testCorpusReplays() throws {
        for target in FuzzTarget.allCases {
            for file in try Self.inputs("corpus", target) {
                target.run(Array(try Data(contentsOf: file)))
            }
        }
    }

    func testRegressionsReplay() throws {
        for target in FuzzTarget.allCases {
            for file in try Self.inputs("regressions", target) {
                target.run(Array(try Data(contentsOf: file)))
            }
        }
    }
}
