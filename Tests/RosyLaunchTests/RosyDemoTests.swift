import Foundation
import RosyTestSupport
import XCTest

/// rosy 0.8.3's own demo launch file, unchanged, with its Python nodes.
///
/// The Python nodes find each other with mDNS (python-zeroconf), so the test runs in a
/// network namespace of its own (`unshare -n`, loopback up with multicast) and never sends
/// multicast on the machine's network. Python resolves a node only once its host name has an
/// address record; with no Avahi in the namespace, a small python-zeroconf script publishes
/// `<fqdn>.local -> 127.0.0.1` first.
final class RosyDemoTests: XCTestCase {
    func testRosyDemoLaunchFileRunsAndTheListenerGetsTheMessage() throws {
        let python = try TestSupport.python()
        let bin = URL(fileURLWithPath: python).deletingLastPathComponent()
        let demo = bin.deletingLastPathComponent().appendingPathComponent("lib/python3.11/site-packages/rosy/demo/launch.yaml")
        let yaml = try String(contentsOf: demo, encoding: .utf8)
        let hostRecord = """
            import socket, time
            from zeroconf import Zeroconf, ServiceInfo
            fqdn = socket.getfqdn()
            server = (fqdn if fqdn.endswith(".local") else fqdn + ".local") + "."
            zc = Zeroconf(interfaces=["127.0.0.1"])
            zc.register_service(ServiceInfo("_rosytesthost._tcp.local.", "host._rosytesthost._tcp.local.", port=9,
                                addresses=[socket.inet_aton("127.0.0.1")], server=server))
            print("host record published", flush=True)
            time.sleep(3600)
            """
        let folder = try TestSupport.temporaryDirectory("rosy-demo")
        defer { try? FileManager.default.removeItem(at: folder) }
        try hostRecord.write(to: folder.appendingPathComponent("hostrecord.py"), atomically: true, encoding: .utf8)
        // In the namespace: loopback up with multicast, the host record, then rosy-launch (exec'd,
        // so the harness's signals reach it). The namespace dies with its last process.
        let script = """
            ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo || exit 99
            python3 \(folder.path)/hostrecord.py &
            sleep 1.5
            exec "$@"
            """
        let launch = try LaunchHarness(
            yaml: yaml, environment: ["PATH": bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")],
            launcher: ["/usr/bin/unshare", "-n", "/bin/sh", "-c", script, "netns"])
        launch.waitForOutput(containing: "topic_listener | Received \"hello world\" on topic=some-topic", timeout: 90)
        XCTAssertTrue(launch.output.contains("topic_listener | Listening..."), launch.output)
        launch.signal(SIGINT)
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
        // The host-record helper was the shell's child; it is re-parented to rosy-launch
        // (a subreaper) and killed at the end with the other strays.
    }
}
