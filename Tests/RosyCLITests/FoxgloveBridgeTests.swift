import Foundation
import RosyTestSupport
import XCTest

/// `rosy foxglove` as Foxglove meets it: a real `rosy foxglove` process, a WebSocket client
/// that is not the project's own (Python's `websockets`, ``FoxgloveClientScript``), and
/// Swift and Python rosy 0.8.3 nodes in the mesh (Python's through the local-registry
/// bridge of ``PythonInteropTests``).
final class FoxgloveBridgeTests: XCTestCase {
    private var domain = ""
    private var directory = URL(fileURLWithPath: "/tmp")
    private var background: [BackgroundProcess] = []

    override func setUpWithError() throws {
        domain = "fox-\(UUID().uuidString.prefix(8))"
        directory = try TestSupport.temporaryDirectory("rosy-foxglove")
        try Data(PythonInteropTests.bridge.utf8).write(to: directory.appendingPathComponent("registry_bridge.py"))
        try Data(FoxgloveClientScript.source.utf8).write(to: directory.appendingPathComponent("foxglove_client.py"))
        try Data(Self.floodSender.utf8).write(to: directory.appendingPathComponent("flood_sender.py"))
    }

    override func tearDown() {
        for process in background { process.kill9() }
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: Processes

    private func startRosy(_ arguments: [String]) throws -> BackgroundProcess {
        let process = try BackgroundProcess.rosy(["--domain-id", domain] + arguments, directory: directory)
        background.append(process)
        return process
    }

    /// Python rosy's CLI (`rosy ARGS`) or a module (`-m NAME`), through the registry bridge.
    private func startPython(_ arguments: [String]) throws -> BackgroundProcess {
        let process = try BackgroundProcess(
            try TestSupport.python(), ["-u", directory.appendingPathComponent("registry_bridge.py").path] + arguments,
            environment: ["ROSY_DOMAIN_ID": domain], directory: directory)
        background.append(process)
        return process
    }

    /// `rosy foxglove --port 0 ...`, and the URL it printed.
    private func startBridge(_ arguments: [String] = []) throws -> (BackgroundProcess, String) {
        let bridge = try startRosy(["foxglove", "--port", "0", "--log-level", "info"] + arguments)
        bridge.waitFor("Foxglove bridge on ws://127.0.0.1:")
        let line = try XCTUnwrap(bridge.stdout.split(separator: "\n").first { $0.hasPrefix("Foxglove bridge on ") })
        let url = try XCTUnwrap(line.split(separator: " ").first { $0.hasPrefix("ws://") })
        return (bridge, String(url))
    }

    private func startClient(_ scenario: String, _ arguments: [String]) throws -> BackgroundProcess {
        let process = try BackgroundProcess(
            try TestSupport.python(), ["-u", directory.appendingPathComponent("foxglove_client.py").path, scenario] + arguments,
            directory: directory)
        background.append(process)
        return process
    }

    /// The client's output line that has `key`, as JSON.
    private func line(_ client: BackgroundProcess, _ key: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        client.waitFor("{\"\(key)\":", timeout: 60, file: file, line: line)
        for text in client.stdout.split(separator: "\n") where text.hasPrefix("{\"\(key)\":") {
            return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        }
        throw TestSupportError("no line with \(key): \(client.stdout)\n\(client.stderr)")
    }

    // MARK: Tests

    func testStreamsSwiftAndPythonTopicsAndFollowsTheirListeners() throws {
        let echo = try startRosy(["topic", "echo", "swift-pose", "python-pose"])
        echo.waitFor("Listening to topics")
        let (bridge, url) = try startBridge()
        _ = try startRosy(["topic", "send", "swift-pose", "{'x': 1.5, 'from': 'swift'}", "--interval", "0.1"])
        _ = try startPython(["rosy", "topic", "send", "python-pose", "{'x': 2.5, 'from': 'python'}", "k=[1, None]", "--interval", "0.1"])
        let client = try startClient("stream", [url, "swift-pose", "python-pose"])

        let info = try XCTUnwrap(try line(client, "serverInfo")["serverInfo"] as? [String: Any])
        XCTAssertEqual(info["op"] as? String, "serverInfo")
        XCTAssertEqual(info["capabilities"] as? [String], ["clientPublish", "services"])
        XCTAssertEqual(info["supportedEncodings"] as? [String], ["json"])
        XCTAssertEqual((info["metadata"] as? [String: String])?["domainId"], domain)

        let channels = try XCTUnwrap(try line(client, "channels")["channels"] as? [String: [String: Any]])
        for topic in ["swift-pose", "python-pose"] {
            let channel = try XCTUnwrap(channels[topic], "\(channels)")
            XCTAssertEqual(channel["encoding"] as? String, "json")
            XCTAssertEqual(channel["schemaName"] as? String, "rosy.Message")
            XCTAssertEqual(channel["schemaEncoding"] as? String, "jsonschema")
            let schema = try XCTUnwrap(channel["schema"] as? String)
            XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(schema.utf8)) as? [String: Any])
        }

        // messageData whose JSON is what each node sent.
        let received = try line(client, "messages")
        let messages = try XCTUnwrap(received["messages"] as? [String: [Any]])
        for message in messages["swift-pose"] ?? [] {
            XCTAssertEqual(message as? NSDictionary, ["args": [["x": 1.5, "from": "swift"]], "kwargs": [:]] as NSDictionary)
        }
        for message in messages["python-pose"] ?? [] {
            XCTAssertEqual(message as? NSDictionary, ["args": [["x": 2.5, "from": "python"]], "kwargs": ["k": [1, NSNull()]]] as NSDictionary)
        }
        XCTAssertEqual(messages["swift-pose"]?.count, 3)
        XCTAssertEqual(messages["python-pose"]?.count, 3)
        // Receive timestamps: nanoseconds of the Unix epoch, taken as the messages arrived.
        let now = try XCTUnwrap(received["now"] as? Int)
        for stamp in try XCTUnwrap(received["stamps"] as? [Int]) {
            XCTAssertLessThan(abs(now - stamp), 30_000_000_000, "stamp \(stamp), now \(now)")
        }

        // The only other listener leaves: both channels are unadvertised.
        client.waitFor("{\"waiting\":")
        XCTAssertEqual(echo.interrupt(), 0)
        let gone = try line(client, "unadvertised")
        XCTAssertEqual(gone["unadvertised"] as? [Int], gone["expected"] as? [Int])
        XCTAssertEqual(client.waitForExit(), 0, client.stderr)
        XCTAssertEqual(bridge.interrupt(), 0, bridge.stderr)
        XCTAssertTrue(bridge.stderr.contains("listening to 'swift-pose'"), bridge.stderr)
    }

    func testClientPublishReachesAPythonListener() throws {
        let echo = try startPython(["rosy", "topic", "echo", "from-foxglove"])
        echo.waitFor("Listening to topics")
        let (_, url) = try startBridge()
        let client = try startClient("publish", [url, "from-foxglove", "25"])
        client.waitFor("{\"publishing\":")
        echo.waitFor("  note='from foxglove'", timeout: 60)
        XCTAssertTrue(echo.stdout.contains("topic='from-foxglove'\nargs:\n  0: {'x': 3.5}\nkwargs:\n  note='from foxglove'\n"), echo.stdout)

        // What the bridge cannot take is an error status, and the connection stays open.
        let statuses = try XCTUnwrap(try line(client, "statuses")["statuses"] as? [[String: Any]])
        let errors = statuses.filter { $0["level"] as? Int == 2 }.compactMap { $0["message"] as? String }
        XCTAssertTrue(errors.contains { $0.contains("encoding 'protobuf'") }, "\(errors)")
        XCTAssertTrue(errors.contains { $0.contains("not JSON") }, "\(errors)")
        XCTAssertTrue(errors.contains { $0.contains("client channel 9, which was not advertised") }, "\(errors)")
        XCTAssertEqual(client.waitForExit(), 0, client.stderr)
    }

    func testServiceCallsReturnTheProductOrTheError() throws {
        let provider = try startPython(["-m", "rosy.demo.service_provider"])
        provider.waitFor("Started service...")
        let (_, url) = try startBridge()
        let client = try startClient("call", [url, "multiply"])

        let service = try XCTUnwrap(try line(client, "service")["service"] as? [String: Any])
        XCTAssertEqual(service["name"] as? String, "multiply")
        let answers = try line(client, "responses")
        let responses = try XCTUnwrap(answers["responses"] as? [[String: Any]])
        XCTAssertEqual(responses.count, 1, "\(responses)")
        XCTAssertEqual(responses.first?["callId"] as? Int, 1)
        XCTAssertEqual(responses.first?["encoding"] as? String, "json")
        XCTAssertEqual(responses.first?["payload"] as? String, "42")

        let failures = try XCTUnwrap(answers["failures"] as? [[String: Any]])
        let byCall = Dictionary(uniqueKeysWithValues: failures.map { ($0["callId"] as? Int ?? -1, $0["message"] as? String ?? "") })
        XCTAssertTrue(byCall[2]?.contains("TypeError") ?? false, "\(byCall)")  // Python's own error text
        XCTAssertEqual(byCall[3], "no service 999")
        XCTAssertTrue(byCall[4]?.contains("not JSON") ?? false, "\(byCall)")
        XCTAssertTrue(byCall[5]?.contains("'cbor'") ?? false, "\(byCall)")
        XCTAssertEqual(client.waitForExit(), 0, client.stderr)
    }

    /// A client that never reads, beside one that reads everything, while a Python node
    /// sends 1,000 messages of 2 kB a second for 12 s (24 MB). The stalled client holds at
    /// most the bridge's per-client queue (4 MiB, ``FoxgloveBridge/Options/clientQueueLimit``)
    /// plus a 256 KiB socket buffer; the rest is dropped for it and counted. Stated bound
    /// for the bridge process: its resident memory grows by less than 64 MiB. The other
    /// client misses nothing.
    func testAStalledClientHasItsMessagesDroppedAndSlowsNoOne() throws {
        let (bridge, url) = try startBridge(["--topics", "flood"])
        let client = try startClient("flood", [url, "flood", "12"])
        client.waitFor("{\"subscribed\":")
        let sender = try startPython(["-m", "flood_sender", "flood", "1000", "12", "2000"])
        sender.waitFor("sending", timeout: 60)
        let pid = bridge.process.processIdentifier
        let before = try residentKiB(pid)
        var peak = before
        while client.process.isRunning && !client.stdout.contains("{\"fast\":") {
            peak = max(peak, (try? residentKiB(pid)) ?? peak)
            Thread.sleep(forTimeInterval: 0.2)
        }
        sender.waitFor("sent")
        let sent = try XCTUnwrap(Int(sender.stdout.split(separator: "\n").last { $0.hasPrefix("sent ") }?.split(separator: " ").last ?? ""))
        let fast = try XCTUnwrap(try line(client, "fast")["fast"] as? [String: Any])
        let slow = try XCTUnwrap(try line(client, "slow")["slow"] as? [String: Any])
        let growthMiB = Double(peak - before) / 1024
        print("foxglove flood: sent \(sent), fast client \(fast), slow client got \(slow["count"] ?? "?"), bridge RSS \(before) KiB, +\(String(format: "%.1f", growthMiB)) MiB at peak")

        XCTAssertEqual(fast["missing"] as? Int, 0, "the reading client missed messages: \(fast)")
        XCTAssertEqual(fast["last"] as? Int, sent - 1, "\(fast)")
        let slowCount = try XCTUnwrap(slow["count"] as? Int)
        XCTAssertLessThan(slowCount, sent / 2, "the stalled client should have had messages dropped")
        let dropped = try XCTUnwrap(slow["dropped"] as? [String])
        XCTAssertFalse(dropped.isEmpty, "the stalled client is told what it lost")
        XCTAssertTrue(bridge.stderr.contains("reads too slowly"), bridge.stderr)
        XCTAssertLessThan(growthMiB, 64, "bridge RSS grew from \(before) KiB to \(peak) KiB")
        XCTAssertEqual(client.waitForExit(), 0, client.stderr)
    }

    func testBadArgumentsRefusedHandshakesAndAPlainPage() throws {
        let rosy = TestSupport.executable("rosy").path
        for (arguments, expected) in [
            (["foxglove", "--topics", ""], "is not a topic name"),
            (["foxglove", "--port", "70000"], "--port must be 0 to 65535"),
        ] {
            let result = try TestSupport.run(rosy, ["--domain-id", domain] + arguments)
            XCTAssertNotEqual(result.status, 0)
            XCTAssertTrue(result.stderr.contains(expected), result.stderr)
            XCTAssertEqual(result.stderr.split(separator: "\n").filter { $0.hasPrefix("Error") }.count, 1, result.stderr)
        }
        let (bridge, url) = try startBridge()
        let port = try XCTUnwrap(url.split(separator: ":").last)
        let taken = try TestSupport.run(rosy, ["--domain-id", domain, "foxglove", "--port", String(port)], timeout: 30)
        XCTAssertNotEqual(taken.status, 0)
        XCTAssertTrue(taken.stderr.contains("cannot listen on 127.0.0.1:\(port)"), "status \(taken.status): \(taken.stderr)\(taken.stdout)")
        XCTAssertEqual(taken.stderr.split(separator: "\n").count, 1, taken.stderr)

        let client = try startClient("refuse", [url])
        let answer = try line(client, "http")
        XCTAssertTrue((answer["http"] as? String)?.contains("Foxglove WebSocket server") ?? false, "\(answer)")
        XCTAssertTrue((answer["refused"] as? String)?.contains("400") ?? false, "\(answer)")
        XCTAssertEqual(bridge.interrupt(), 0, bridge.stderr)
    }

    /// The bridge keeps running when the mesh goes away and comes back.
    func testAMeshThatGoesAndComesBack() throws {
        let (bridge, url) = try startBridge()
        let echo = try startRosy(["topic", "echo", "comes-and-goes"])
        echo.waitFor("Listening to topics")
        echo.kill9()  // no goodbye: the bridge must notice the node is gone
        _ = try startRosy(["topic", "echo", "comes-and-goes"]).waitFor("Listening to topics")
        _ = try startRosy(["topic", "send", "comes-and-goes", "7", "--interval", "0.1"])
        let client = try startClient("stream", [url, "comes-and-goes"])
        let received = try line(client, "messages")
        let messages = try XCTUnwrap(received["messages"] as? [String: [Any]])
        XCTAssertEqual(messages["comes-and-goes"]?.first as? NSDictionary, ["args": [7], "kwargs": [:]] as NSDictionary)
        XCTAssertEqual(bridge.interrupt(), 0, bridge.stderr)
    }

    private func residentKiB(_ pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try XCTUnwrap(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        return try XCTUnwrap(Int(line.split(separator: " ")[1]))
    }

    /// A Python rosy node that sends `(seq, 'x' * size)` at `rate` messages a second for
    /// `seconds`, once something listens; prints `sent N` at the end.
    static let floodSender = #"""
import asyncio, sys, time
import rosy

async def main():
    topic, rate, seconds, size = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    node = await rosy.build_node("flood_sender")
    await node.wait_for_listener(topic)
    await asyncio.sleep(0.5)
    print("sending", flush=True)
    data, seq, start = "x" * size, 0, time.monotonic()
    while time.monotonic() - start < seconds:
        due = int((time.monotonic() - start) * rate)
        while seq < due:
            await node.send(topic, seq, data)
            seq += 1
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.5)
    print("sent", seq, flush=True)
    await node.stop()

asyncio.run(main())
"""#
}
