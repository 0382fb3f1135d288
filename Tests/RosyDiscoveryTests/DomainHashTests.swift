import RosyDiscovery
import RosyTestSupport
import XCTest

final class DomainHashTests: XCTestCase {
    func testDefaultDomainHashIsRosys() {
        XCTAssertEqual(DomainHash.hex(of: "default"), "6b01bd89a8")
        XCTAssertEqual(DomainHash.serviceType(for: "default"), "_rosy-6b01bd89a8._tcp")
    }

    /// Python rosy's own `hash_domain_id` must agree for any id, including non-ASCII ones.
    func testAgreesWithPythonRosy() throws {
        let ids = ["", "a", "robot-1", "Ünïcødé 🤖", String(repeating: "x", count: 300)]
        let result = try TestSupport.runPython(
            "import sys\nfrom rosy.discovery.zeroconf import hash_domain_id\n"
                + "for line in sys.stdin.read().split('\\n'): print(hash_domain_id(line))",
            input: ids.joined(separator: "\n").data(using: .utf8))
        XCTAssertEqual(result.status, 0, result.stderr)
        let python = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).prefix(ids.count).map(String.init)
        XCTAssertEqual(python, ids.map(DomainHash.hex(of:)))
    }
}

final class HostInfoTests: XCTestCase {
    /// The loopback address is among the interface addresses, IPv4 before IPv6.
    func testInterfaceAddressesListLoopback() {
        let addresses = HostInfo.interfaceAddresses()
        XCTAssertTrue(addresses.contains { $0.address == "127.0.0.1" && $0.isLoopback && $0.family == 2 }, "\(addresses)")
        let families = addresses.map(\.family)
        XCTAssertEqual(families, families.sorted(), "IPv4 first")
        XCTAssertFalse(HostInfo.hostname.isEmpty)
        XCTAssertEqual(HostInfo.mdnsHostname, HostInfo.hostname + ".local")
    }
}

final class AdvertisedHostsTests: XCTestCase {
    /// `<hostname>.local` first, then every non-loopback address getifaddrs reports.
    func testAdvertisedHostsStartWithTheMDNSName() {
        let hosts = HostInfo.advertisedTCPHosts()
        XCTAssertEqual(hosts.first?.name, HostInfo.mdnsHostname)
        let expected = HostInfo.interfaceAddresses().filter { !$0.isLoopback && !$0.address.contains("%") }.map(\.address)
        XCTAssertEqual(Array(hosts.dropFirst().map(\.name)), Array(NSOrderedSet(array: expected)) as? [String])
        XCTAssertFalse(hosts.contains { $0.name == "127.0.0.1" })
    }
}
