import Foundation
@testable import RosyDiscovery
import XCTest

/// ``Merger``'s memory of departed nodes: stale reports are refused for minutes, and the
/// memory is emptied again, so that a mesh that runs for weeks with crashing nodes (the
/// soak: one or two departures a second) does not grow with every node it ever saw.
final class MergerTests: XCTestCase {
    let authority = 0, cache = 1

    func testADepartedNodeStaysGoneThenIsForgotten() {
        var merger = Merger()
        let start = ContinuousClock.now
        let spec = testSpec("crasher")
        XCTAssertEqual(merger.apply(.upserted(spec), from: authority, authoritative: true, now: start), .upserted(spec))
        XCTAssertNil(merger.apply(.upserted(spec), from: cache, authoritative: false, now: start))
        XCTAssertEqual(merger.apply(.removed(spec.id), from: authority, authoritative: true, now: start), .removed(spec.id))
        XCTAssertEqual(merger.departedCount, 1)

        // The cache re-announces it a minute later: still gone.
        XCTAssertNil(merger.apply(.upserted(spec), from: cache, authoritative: false, now: start + .seconds(60)))

        // Every event past the memory may prune: the departed node is forgotten, the new one is not.
        let later = start + Merger.departedMemory + .seconds(1)
        let other = testSpec("other")
        XCTAssertEqual(merger.apply(.upserted(other), from: authority, authoritative: true, now: later), .upserted(other))
        XCTAssertEqual(merger.apply(.removed(other.id), from: authority, authoritative: true, now: later), .removed(other.id))
        XCTAssertEqual(merger.departedCount, 1, "only the node that left just now is remembered")
    }

    func testAThousandDeparturesAreNotAllRemembered() {
        var merger = Merger()
        let start = ContinuousClock.now
        // One departure a second for an hour.
        for second in 0..<3600 {
            let spec = testSpec("crasher-\(second)")
            let now = start + .seconds(second)
            _ = merger.apply(.upserted(spec), from: authority, authoritative: true, now: now)
            _ = merger.apply(.removed(spec.id), from: authority, authoritative: true, now: now)
        }
        XCTAssertLessThanOrEqual(merger.departedCount, 451, "at most 300 to 450 s of departures are kept")
        XCTAssertGreaterThanOrEqual(merger.departedCount, 300)
    }
}
