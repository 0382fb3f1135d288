import XCTest

final class RosyCLITestsPlaceholder: XCTestCase {
    func testBuilds() {}
}
