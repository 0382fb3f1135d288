import OrderedCollections
import RosyWire
import XCTest

final class ValueTests: XCTestCase {
    func testLiteralsBuildTheExpectedCases() {
        let value: Value = ["hello", 42, 3.5, nil, true, [1, 2], ["key": "value"]]
        XCTAssertEqual(value, .list([
            .string("hello"), .int(42), .double(3.5), .none, .bool(true),
            .list([.int(1), .int(2)]), .dict([.string("key"): .string("value")]),
        ]))
    }

    func testSetsAreEqualInAnyOrderAndHashAlike() {
        let a = Value.set([1, 2, 3])
        let b = Value.set([3, 1, 2])
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.hashValue, b.hashValue)
        XCTAssertNotEqual(a, Value.set([1, 2]))
        XCTAssertEqual(Set([a, b]).count, 1)
    }

    func testListsAndTuplesStayDistinct() {
        XCTAssertNotEqual(Value.list([1]), Value.tuple([1]))
        XCTAssertNotEqual(Value.list([1, 2]), Value.list([2, 1]))
    }

    func testAccessors() {
        XCTAssertEqual(Value.int(7).doubleValue, 7)
        XCTAssertEqual(Value.set([1]).arrayValue, [1])
        XCTAssertNil(Value.string("x").intValue)
        XCTAssertTrue(Value.none.isNone)
    }
}
