import XCTest

final class RosyDiscoveryTestsPlaceholder: XCTestCase {
    func testBuilds() {}
}
