import XCTest

final class RosyTestsPlaceholder: XCTestCase {
    func testBuilds() {}
}
