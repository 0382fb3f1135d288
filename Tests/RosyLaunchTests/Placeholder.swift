import XCTest

final class RosyLaunchTestsPlaceholder: XCTestCase {
    func testBuilds() {}
}
