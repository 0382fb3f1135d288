import XCTest

final class RosyWireTestsPlaceholder: XCTestCase {
    func testBuilds() {}
}
