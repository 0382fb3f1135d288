import Logging
import NIOCore
import NIOPosix
@testable import Rosy
import RosyDiscovery
import XCTest

/// A peer that is gone without a goodbye (killed, and still listed until discovery drops
/// it) is dialled less and less often, not ten times a second by every sender.
final class ReconnectBackoffTests: XCTestCase {
    func testTheDelayDoublesUpToThreeSeconds() {
        let delays = (0...8).map { PeerLink.reconnectDelay(afterFailures: $0).nanoseconds / 1_000_000 }
        XCTAssertEqual(delays, [100, 100, 200, 400, 800, 1600, 3200, 3200, 3200])
    }

    func testAGonePeerIsDialledFewerTimesTheLongerItFails() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let lines = LogLines()
        let logger = Logger(label: "test") { _ in lines }
        // A socket file nobody listens on: every attempt is refused at once.
        let path = NSTemporaryDirectory() + "rosy-gone-\(UUID().uuidString).sock"
        let spec = MeshNodeSpec(id: NodeID(name: "gone", hostname: Host.name),
                                connectionSpecs: [.unix(path: path, host: Host.name)], topics: ["t"])
        let link = PeerLink(spec: spec, settings: .init(
            group: group, capacity: 100, byteCapacity: 1 << 20, timeToLive: .seconds(10),
            maximumMessageSize: 1 << 20, logger: logger))

        // A sender at 200 messages a second for 2 s: without a backoff, about 20 attempts
        // (one per 100 ms); with it, at 0, 0.1, 0.3, 0.7 and 1.5 s.
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(2) {
            _ = link.offer(.bytes(ByteBuffer(bytes: [0])), deadline: .now() + .seconds(10))
            try await Task.sleep(for: .milliseconds(5))
        }
        let attempts = lines.errors.filter { $0.contains("Could not connect to node=") }.count
        XCTAssertGreaterThanOrEqual(attempts, 3, lines.errors.joined(separator: "\n"))
        XCTAssertLessThanOrEqual(attempts, 7, lines.errors.joined(separator: "\n"))

        // New addresses are tried at once.
        let before = lines.errors.count
        link.update(MeshNodeSpec(id: spec.id, connectionSpecs: [.unix(path: path + ".2", host: Host.name)], topics: ["t"]))
        _ = link.offer(.bytes(ByteBuffer(bytes: [0])), deadline: .now() + .seconds(10))
        for _ in 0..<200 where lines.errors.count == before { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertEqual(lines.errors.count, before + 1, "the new address was not tried")

        link.close()
        try await group.shutdownGracefully()
    }
}
