@testable import Rosy
import XCTest

final class PendingCallsTests: XCTestCase {
    func testIdsAreHandedOutInTurnAndCallsAreFoundByTheirId() {
        var pending = PendingCalls<String>()
        let ids = (0..<5).compactMap { pending.insert("call \($0)") }
        XCTAssertEqual(ids, [0, 1, 2, 3, 4])
        XCTAssertEqual(pending.count, 5)
        XCTAssertEqual(pending[3], "call 3")
        XCTAssertNil(pending[7])
        XCTAssertEqual(pending.remove(3), "call 3")
        XCTAssertNil(pending.remove(3), "taken once")
        XCTAssertNil(pending[3])
        // A freed id comes back only after the others.
        XCTAssertEqual(pending.insert("next"), 5)
        XCTAssertEqual(pending.count, 5)
    }

    func testAnIdStillWaitingIsSkippedWhenTheCounterComesRound() {
        var pending = PendingCalls<Int>(initialSlots: 4)
        let slow = pending.insert(-1)!  // id 0 waits throughout
        for round in 0..<70_000 {
            let id = pending.insert(round)!
            XCTAssertNotEqual(id, slow)
            XCTAssertEqual(pending.remove(id), round)
        }
        XCTAssertEqual(pending[slow], -1)
        XCTAssertEqual(pending.count, 1)
    }

    func testTheTableGrowsAndKeepsEveryCall() {
        var pending = PendingCalls<Int>(initialSlots: 2)
        var ids: [UInt16: Int] = [:]
        for value in 0..<1_000 { ids[pending.insert(value)!] = value }
        XCTAssertEqual(ids.count, 1_000, "ids are distinct")
        // Free every other call, then fill again: no id is given twice while it waits.
        for (id, value) in ids where value % 2 == 0 { XCTAssertEqual(pending.remove(id), value) }
        for value in 1_000..<1_500 {
            let id = pending.insert(value)!
            XCTAssertNil(ids[id].flatMap { $0 % 2 == 1 ? $0 : nil }, "id \(id) still waits")
            ids[id] = value
        }
        XCTAssertEqual(pending.count, 1_000)
        for (id, value) in ids where value % 2 == 1 || value >= 1_000 { XCTAssertEqual(pending[id], value) }
    }

    func testEveryIdTakenRefusesTheNextCall() {
        var pending = PendingCalls<Int>()
        for value in 0..<PendingCalls<Int>.capacity { XCTAssertNotNil(pending.insert(value)) }
        XCTAssertNil(pending.insert(-1))
        XCTAssertEqual(pending.remove(12_345), 12_345)
        XCTAssertEqual(pending.insert(-1), 12_345, "the one free id")
    }

    func testRemoveIfAndModifyAndRemoveAll() {
        var pending = PendingCalls<Int>()
        let id = pending.insert(7)!
        XCTAssertNil(pending.remove(id) { $0 == 8 }, "a call that does not match stays")
        XCTAssertEqual(pending.modify(id) { value -> Int in value += 1; return value }, 8)
        XCTAssertNil(pending.modify(999) { _ in 0 })
        _ = pending.insert(20)
        XCTAssertEqual(pending.removeAll().sorted(), [8, 20])
        XCTAssertTrue(pending.isEmpty)
        XCTAssertNil(pending[id])
    }
}
