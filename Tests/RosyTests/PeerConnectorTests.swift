@testable import Rosy
import RosyDiscovery
import XCTest

final class PeerConnectorTests: XCTestCase {
    func testUnixOnlyOnTheSameHostThenIPv4BeforeIPv6() {
        let spec = MeshNodeSpec(id: NodeID(name: "peer", hostname: "here"), connectionSpecs: [
            .ip(host: "here.local", port: 2, family: 10),
            .unix(path: "/run/a.sock", host: "elsewhere"),
            .ip(host: "here.local", port: 1, family: 2),
            .unix(path: "/run/b.sock", host: "here"),
        ])
        XCTAssertEqual(PeerConnector.candidates(spec, hostname: "here"), [
            .unix(path: "/run/b.sock", host: "here"),
            .ip(host: "here.local", port: 1, family: 2),
            .ip(host: "here.local", port: 2, family: 10),
        ])
        XCTAssertEqual(PeerConnector.candidates(spec, hostname: "other"), [
            .ip(host: "here.local", port: 1, family: 2),
            .ip(host: "here.local", port: 2, family: 10),
        ])
    }
}
