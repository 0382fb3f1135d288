import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
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

    /// Python rosy serves IPv4 and IPv6 on two different ports. A spec is dialled only at
    /// addresses of its own family: the IPv6 port of a node, dialled over IPv4, may be
    /// another node's IPv4 server (the soak saw calls and messages reach the wrong node).
    func testASpecIsDialledOnlyInItsOwnFamily() async throws {
        let ipv4 = try await CountingServer(host: "127.0.0.1")
        let ipv6 = try await CountingServer(host: "::1")
        defer { ipv4.close(); ipv6.close() }

        // The IPv6 spec with the IPv4 server's port: "localhost" (127.0.0.1 in this host's
        // /etc/hosts, maybe ::1 too) and the IPv4 literal must not reach the IPv4 server.
        for host in ["localhost", "127.0.0.1"] {
            let connection = try? await Self.connect(host: host, port: ipv4.port, family: 10)
            try await connection?.channel.close()
        }
        // An IPv4 spec never goes to an IPv6 address.
        let wrongFamily = try? await Self.connect(host: "::1", port: ipv6.port, family: 2)
        XCTAssertNil(wrongFamily, "an IPv4 spec was dialled over IPv6")
        try await wrongFamily?.channel.close()

        // Each family reaches its own server, and only these connections were accepted.
        try await Self.connect(host: "localhost", port: ipv4.port, family: 2).channel.close()
        try await Self.connect(host: "::1", port: ipv6.port, family: 10).channel.close()
        try await ipv4.waitUntilAccepted(1)
        try await ipv6.waitUntilAccepted(1)
        try await Task.sleep(for: .milliseconds(100))
        XCTAssertEqual(ipv4.accepted, 1, "an IPv6 spec was dialled over IPv4")
        XCTAssertEqual(ipv6.accepted, 1)
    }

    private static func connect(host: String, port: Int, family: Int) async throws -> ClientConnection {
        let spec = MeshNodeSpec(id: NodeID(name: "peer", hostname: "elsewhere"), connectionSpecs: [
            .ip(host: host, port: port, family: family),
        ])
        let settings = PeerLink.Settings(
            group: MultiThreadedEventLoopGroup.singleton, capacity: 16, byteCapacity: 1 << 20,
            timeToLive: .seconds(5), maximumMessageSize: 1 << 20, logger: Logger(label: "test"))
        return try await PeerConnector.connect(to: spec, link: PeerLink(spec: spec, settings: settings), settings: settings)
    }
}

/// A TCP server that counts the connections it accepts.
private final class CountingServer: Sendable {
    private let channel: any Channel
    private let count: NIOLockedValueBox<Int>
    let port: Int
    var accepted: Int { count.withLockedValue { $0 } }

    init(host: String) async throws {
        let count = NIOLockedValueBox(0)
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { child in
                count.withLockedValue { $0 += 1 }
                return child.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: host, port: 0).get()
        self.count = count
        port = channel.localAddress?.port ?? 0
    }

    func close() { channel.close(promise: nil) }

    func waitUntilAccepted(_ wanted: Int) async throws {
        for _ in 0..<200 where accepted < wanted { try await Task.sleep(for: .milliseconds(10)) }
    }
}
