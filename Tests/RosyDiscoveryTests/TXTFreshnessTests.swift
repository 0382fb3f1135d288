import Foundation
@testable import RosyDiscovery
import XCTest

/// Late mDNS answers with a TXT record the node has replaced: the soak (bench/soak) saw
/// a Python provider's service vanish for 1.2 s after it started, as python-zeroconf sent
/// an answer it had queued before the node added the service.
final class TXTFreshnessTests: XCTestCase {
    let v1: [UInt8] = [1], v2: [UInt8] = [2], v3: [UInt8] = [3]
    let t = Date(timeIntervalSince1970: 1_000_000)

    func testNewRecordsAreBelievedAtOnce() {
        var txt = TXTFreshness()
        XCTAssertEqual(txt.see(v1, at: t), .changed)
        XCTAssertEqual(txt.see(v1, at: t + 0.1), .same)
        XCTAssertEqual(txt.see(v2, at: t + 0.2), .changed)
        XCTAssertEqual(txt.see(v3, at: t + 0.3), .changed)
        XCTAssertEqual(txt.current, v3)
    }

    /// The older record comes back right after the new one: the new one stands, and the
    /// next answer (the current record) ends the doubt.
    func testALateOlderAnswerDoesNotReplaceTheCurrentRecord() {
        var txt = TXTFreshness()
        _ = txt.see(v1, at: t)
        _ = txt.see(v2, at: t + 0.05)
        XCTAssertEqual(txt.see(v1, at: t + 0.1), .suspect)
        XCTAssertEqual(txt.see(v1, at: t + 0.15), .suspect, "a second late answer in the same burst")
        XCTAssertEqual(txt.current, v2)
        XCTAssertEqual(txt.see(v2, at: t + 1.6), .same)
        // The doubt is over: the older record is a suspect again, not confirmed by the past.
        XCTAssertEqual(txt.see(v1, at: t + 2.0), .suspect)
        XCTAssertEqual(txt.current, v2)
    }

    /// A node that really goes back to an earlier record (stops listening to a topic it
    /// added) is believed once that record is still the answer a second later.
    func testARealReturnToAnEarlierRecordIsBelievedWhenConfirmed() {
        var txt = TXTFreshness()
        _ = txt.see(v1, at: t)
        _ = txt.see(v2, at: t + 1)
        XCTAssertEqual(txt.see(v1, at: t + 5), .suspect)
        XCTAssertEqual(txt.see(v1, at: t + 5.5), .suspect)
        XCTAssertEqual(txt.see(v1, at: t + 6.5), .changed)
        XCTAssertEqual(txt.current, v1)
        // And back again: v2 is now the replaced one.
        XCTAssertEqual(txt.see(v2, at: t + 7), .suspect)
    }

    /// Only a few replaced records are remembered: a node that changes often is followed.
    func testOnlyTheLastFewReplacedRecordsAreSuspects() {
        var txt = TXTFreshness()
        let blobs = (0..<(TXTFreshness.remembered + 2)).map { [UInt8($0 + 10)] }
        for (i, blob) in blobs.enumerated() { XCTAssertEqual(txt.see(blob, at: t + Double(i)), .changed) }
        XCTAssertEqual(txt.see(blobs[0], at: t + 100), .changed, "forgotten: a new record")
        XCTAssertEqual(txt.see(blobs[blobs.count - 2], at: t + 101), .suspect)
    }
}
