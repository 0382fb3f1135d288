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
        // rosy's demo file has a race of its own: the sender starts 1 s after the listener
        // (post_delay) and sends once; a listener slower than that to join the mesh (a loaded
        // machine, a cold Python start) misses the message. Only that case, a sender that
        // ended before the listener received anything, is run again, up to three times.
        let received = "topic_listener | Received \"hello world\" on topic=some-topic"
        for attempt in 1...3 {
            let launch = try LaunchHarness(
                yaml: yaml, environment: ["PATH": bin.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")],
                launcher: ["/usr/bin/unshare", "-n", "/bin/sh", "-c", script, "netns"])
            launch.waitForOutput("the message, or the sender's end", timeout: 90) {
                $0.contains(received) || $0.contains("topic_sender (pid")
            }
            // A received message is printed right after the sender's send: give it a moment.
            let settle = Date().addingTimeInterval(5)
            while !launch.output.contains(received) && Date() < settle { usleep(50_000) }
            let got = launch.output.contains(received)
            launch.signal(SIGINT)
            XCTAssertEqual(launch.waitForExit(), 0, launch.output)
            if got {
                XCTAssertTrue(launch.output.contains("topic_listener | Listening..."), launch.output)
                return
            }
            print("rosy demo attempt \(attempt): the sender ended before the listener received; output:\n\(launch.output)")
        }
        // The host-record helper was the shell's child; it is re-parented to rosy-launch
        // (a subreaper) and killed at the end with the other strays.
        XCTFail("rosy's demo listener never received the message in 3 attempts")
    }
}
