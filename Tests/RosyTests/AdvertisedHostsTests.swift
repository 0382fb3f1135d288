@testable import Rosy
import RosyDiscovery
import XCTest

final class AdvertisedHostsTests: XCTestCase {
    func testWildcardServerAdvertisesTheMDNSNameThenTheMachinesAddresses() {
        let names = NodeServers.advertisedNames(boundTo: "0.0.0.0", family: 2, override: nil)
        XCTAssertEqual(names.first, HostInfo.mdnsHostname)
        let addresses = HostInfo.interfaceAddresses().filter { !$0.isLoopback && $0.family == 2 }.map(\.address)
        XCTAssertEqual(Set(names.dropFirst()), Set(addresses))
    }

    func testSpecificAddressAndOverrideAreAdvertisedAsGiven() {
        XCTAssertEqual(NodeServers.advertisedNames(boundTo: "127.0.0.1", family: 2, override: nil), ["127.0.0.1"])
        XCTAssertEqual(NodeServers.advertisedNames(boundTo: "0.0.0.0", family: 2, override: "robot.lan"), ["robot.lan"])
    }
}
