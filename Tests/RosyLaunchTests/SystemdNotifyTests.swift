import Foundation
import RosyTestSupport
import XCTest

/// Type=notify: READY=1 once every node started, STATUS= updates, WATCHDOG=1 pings, to a real
/// datagram socket standing in for systemd's.
final class SystemdNotifyTests: XCTestCase {
    func testNotifiesReadyStatusAndWatchdog() throws {
        let folder = try TestSupport.temporaryDirectory("rosy-notify")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("notify.sock").path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(bound, 0)
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

        let launch = try LaunchHarness(yaml: """
            nodes:
              a:
                command: echo "child sees [$NOTIFY_SOCKET]"; exec sleep 1000
                pass_name: false
              b:
                command: exec sleep 1000
                pass_name: false
                pre_delay: 0.2
            """, environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"])
        var messages: [String] = []
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 { messages.append(String(decoding: buffer[0..<n], as: UTF8.self)) }
            if messages.contains("READY=1") && messages.contains("STATUS=2 of 2 running")
                && messages.filter({ $0 == "WATCHDOG=1" }).count >= 3 { break }
        }
        XCTAssertTrue(messages.contains("READY=1"), "\(messages)")
        XCTAssertGreaterThanOrEqual(messages.filter { $0 == "WATCHDOG=1" }.count, 3, "\(messages)")
        XCTAssertTrue(messages.contains("STATUS=2 of 2 running"), "\(messages)")
        // READY=1 comes once both nodes started, never before.
        let ready = try XCTUnwrap(messages.firstIndex(of: "READY=1"))
        XCTAssertFalse(messages[..<ready].contains("STATUS=2 of 2 running"), "\(messages)")
        XCTAssertTrue(messages[..<ready].contains { $0.hasPrefix("STATUS=starting") }, "\(messages)")
        // Nodes do not inherit the supervisor's notify socket.
        XCTAssertTrue(launch.output.contains("child sees []"), launch.output)
        launch.signal(SIGTERM)
        XCTAssertEqual(launch.waitForExit(), 0)
    }
}
