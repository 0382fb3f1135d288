import Foundation
import RosyTestSupport
import XCTest

@testable import RosyCLI

/// Every `rosy` command against real nodes: `rosy` processes and the demo executables,
/// each test in a domain of its own.
final class EndToEndTests: XCTestCase {
    private var domain = ""
    private var directory = URL(fileURLWithPath: "/tmp")
    private var background: [BackgroundProcess] = []

    override func setUpWithError() throws {
        domain = "cli-test-\(UUID().uuidString.prefix(8))"
        directory = try TestSupport.temporaryDirectory("rosy-cli")
    }

    override func tearDown() {
        for process in background { process.kill9() }
        try? FileManager.default.removeItem(at: directory)
    }

    /// `rosy --domain-id DOMAIN arguments...` to completion.
    private func rosy(_ arguments: [String], timeout: TimeInterval = 60) throws -> ProcessResult {
        try TestSupport.run(TestSupport.executable("rosy").path, ["--domain-id", domain] + arguments,
                            currentDirectory: directory, timeout: timeout)
    }

    /// `rosy ... --domain-id DOMAIN` in the background (the option after the command this time).
    private func startRosy(_ arguments: [String]) throws -> BackgroundProcess {
        let process = try BackgroundProcess.rosy(arguments + ["--domain-id", domain], directory: directory)
        background.append(process)
        return process
    }

    private func startDemo(_ name: String) throws -> BackgroundProcess {
        let process = try BackgroundProcess(TestSupport.executable(name).path, [], environment: ["ROSY_DOMAIN_ID": domain])
        background.append(process)
        return process
    }

    func testListsNodesTopicsAndServices() throws {
        let provider = try startDemo("service_provider")
        provider.waitFor("Started service...")
        let echo = try startRosy(["topic", "echo", "some-topic", "other-topic"])
        echo.waitFor("Listening to topics")

        let nodes = try rosy(["node", "list", "-v", "--discovery-time", "2"])
        XCTAssertEqual(nodes.status, 0, nodes.stderr)
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? ""
        XCTAssertTrue(nodes.stdout.hasPrefix("2 nodes:\n"), nodes.stdout)
        XCTAssertTrue(nodes.stdout.contains("'rosy topic echo'@\(host)"), nodes.stdout)
        XCTAssertTrue(nodes.stdout.contains("- topics:\n  - 'other-topic'\n  - 'some-topic'\n- services: none"), nodes.stdout)
        XCTAssertTrue(nodes.stdout.contains("service_provider@\(host)"), nodes.stdout)
        XCTAssertTrue(nodes.stdout.contains("- topics: none\n- services:\n  - 'multiply'"), nodes.stdout)
        XCTAssertTrue(nodes.stdout.contains("- UUID: "), nodes.stdout)
        XCTAssertTrue(nodes.stdout.contains("- supported connection methods:\n  - "), nodes.stdout)

        let topics = try rosy(["topic", "list", "--discovery-time", "2"])
        XCTAssertEqual(topics.stdout, "other-topic\nsome-topic\n", topics.stderr)
        let services = try rosy(["service", "list", "--discovery-time", "2"])
        XCTAssertEqual(services.stdout, "multiply\n", services.stderr)
        XCTAssertEqual(echo.interrupt(), 0, echo.stderr)
    }

    func testEchoPrintsASentMessageAsRosy() throws {
        let echo = try startRosy(["topic", "echo", "some-topic"])
        echo.waitFor("Listening to topics: ['some-topic']")
        let send = try rosy(["topic", "send", "some-topic", "'hello world'", "42", "(1, b'\\x00')", "pi=3.14", "d={'k': [1, None]}"])
        XCTAssertEqual(send.status, 0, send.stderr)
        XCTAssertTrue(send.stdout.contains("Sending to topic='some-topic'\nargs:\n  0: 'hello world'\n  1: 42\n  2: (1, b'\\x00')\nkwargs:\n  pi=3.14\n  d={'k': [1, None]}\n"), send.stdout)
        echo.waitFor("topic='some-topic'")
        echo.waitFor("  d={'k': [1, None]}")
        XCTAssertEqual(echo.interrupt(), 0, echo.stderr)
        // rosy's block: blank line, [timestamp], topic, args, kwargs (in the order sent, as rosy).
        let block = try XCTUnwrap(echo.stdout.components(separatedBy: "\n\n[").dropFirst().first)
        let lines = block.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertTrue(lines[0].hasSuffix("]"), block)
        XCTAssertEqual(Array(lines.dropFirst()), ["topic='some-topic'", "args:", "  0: 'hello world'", "  1: 42", "  2: (1, b'\\x00')",
                                                  "kwargs:", "  pi=3.14", "  d={'k': [1, None]}", ""])
    }

    func testEchoJSON() throws {
        let echo = try startRosy(["topic", "echo", "a", "b", "--json"])
        // No banner on stdout in JSON mode: wait until the node is seen instead.
        XCTAssertEqual(try rosy(["topic", "send", "a", "1", "'x'"]).status, 0)
        XCTAssertEqual(try rosy(["topic", "send", "b", "[1.5, True]", "k=None"]).status, 0)
        echo.waitFor("\"topic\":\"b\"")
        XCTAssertEqual(echo.interrupt(), 0, echo.stderr)
        let objects = try echo.stdout.split(separator: "\n").map { line in
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        guard objects.count == 2 else { return XCTFail("expected 2 messages: \(echo.stdout)") }
        XCTAssertEqual(objects[0]["topic"] as? String, "a")
        XCTAssertEqual(objects[0]["args"] as? [AnyHashable], [1, "x"])
        XCTAssertEqual((objects[0]["kwargs"] as? [String: Any])?.count, 0)
        XCTAssertTrue(echo.stdout.contains(#""args":[[1.5,true]],"kwargs":{"k":null}"#), echo.stdout)
        XCTAssertTrue((objects[1]["kwargs"] as? [String: Any])?["k"] is NSNull)
        XCTAssertNotNil(objects[1]["time"] as? Double)
        XCTAssertNotNil(objects[1]["timestamp"] as? String)
    }

    func testServiceCall() throws {
        let provider = try startDemo("service_provider")
        provider.waitFor("Started service...")
        let call = try rosy(["service", "call", "multiply", "6", "7"])
        XCTAssertEqual(call.status, 0, call.stderr)
        XCTAssertTrue(call.stdout.contains("Calling service='multiply'\nargs:\n  0: 6\n  1: 7\nResponse: 42\n"), call.stdout)
        // The provider's error comes back as one error line.
        let failed = try rosy(["service", "call", "multiply", "1"])
        XCTAssertNotEqual(failed.status, 0)
        XCTAssertEqual(failed.stderr.split(separator: "\n").count, 1, failed.stderr)
        XCTAssertTrue(failed.stderr.contains("multiply() takes 2 arguments"), failed.stderr)
    }

    func testCallOfAMissingServiceWithNoWait() throws {
        let call = try rosy(["service", "call", "nobody-provides-this", "1", "--no-wait"])
        XCTAssertNotEqual(call.status, 0)
        let errorLines = call.stderr.split(separator: "\n")
        XCTAssertEqual(errorLines.count, 1, call.stderr)
        XCTAssertTrue(errorLines.first?.hasPrefix("Error: ") ?? false, call.stderr)
        XCTAssertTrue(call.stderr.contains("nobody-provides-this"), call.stderr)
    }

    func testCtrlCEndsWaitingCallAndSendLoop() throws {
        let call = try startRosy(["service", "call", "never", "1"])
        call.waitFor("Waiting for providers...")
        XCTAssertEqual(call.interrupt(), 0, call.stderr)
        let echo = try startRosy(["topic", "echo", "tick"])
        echo.waitFor("Listening to topics")
        let send = try startRosy(["topic", "send", "tick", "1", "--interval", "0.2"])
        echo.waitFor("topic='tick'", count: 3)
        XCTAssertEqual(send.interrupt(), 0, send.stderr)
        XCTAssertEqual(echo.interrupt(), 0, echo.stderr)
    }

    private func recordPlayInfo(format: String, file: String, options: [String] = []) throws {
        let recorder = try startRosy(["bag", "record", "pose", "status", "-o", file, "--format", format] + options)
        recorder.waitFor("Recording topics to \"\(file)\":")
        // Three messages with pauses between them, each waiting for the recorder as listener.
        XCTAssertEqual(try rosy(["topic", "send", "pose", "1", "'one'"]).status, 0)
        Thread.sleep(forTimeInterval: 0.8)
        XCTAssertEqual(try rosy(["topic", "send", "status", "{'ok': True}", "n=(1, 2)"]).status, 0)
        Thread.sleep(forTimeInterval: 0.8)
        XCTAssertEqual(try rosy(["topic", "send", "pose", "3", "b'\\x01'"]).status, 0)
        recorder.waitFor(".", count: 3)
        XCTAssertEqual(recorder.interrupt(), 0, recorder.stderr)
        XCTAssertTrue(recorder.stdout.contains("Recorded 3 messages to \"\(file)\"."), recorder.stdout)

        let info = try rosy(["bag", "info", "-i", file])
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertTrue(info.stdout.contains("messages: 3\n"), info.stdout)
        XCTAssertTrue(info.stdout.contains("- 'pose':\t2 (67%)\n- 'status':\t1 (33%)"), info.stdout)
        XCTAssertFalse(info.stdout.contains("complete: no"), info.stdout)
        if options.isEmpty {
            XCTAssertTrue(info.stdout.contains(format == "mcap" ? "format:   mcap\n" : "format:   rosy (.bag)\n"), info.stdout)
        }

        let echo = try startRosy(["topic", "echo", "pose", "status", "--json"])
        let play = try rosy(["bag", "play", "-i", file, "--wait-for-listeners", "30"])
        XCTAssertEqual(play.status, 0, play.stderr)
        // A .bag keeps the tuple; MCAP's JSON makes it a list.
        XCTAssertTrue(play.stdout.contains("topic='status'\nargs:\n  0: {'ok': True}\nkwargs:\n  n=\(format == "mcap" ? "[1, 2]" : "(1, 2)")\n"), play.stdout)
        echo.waitFor("\"topic\":", count: 3)
        XCTAssertEqual(echo.interrupt(), 0, echo.stderr)
        let objects = try echo.stdout.split(separator: "\n").map { line in
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        XCTAssertEqual(objects.map { $0["topic"] as? String }, ["pose", "status", "pose"])
        guard objects.count == 3 else { return }
        XCTAssertEqual(objects[0]["args"] as? [AnyHashable], [1, "one"])
        XCTAssertEqual(objects[1]["args"] as? [[String: Bool]], [["ok": true]])
        // Relative timing kept: the gaps are at least most of the recorded ones (~0.8 s and more).
        let times = objects.compactMap { $0["time"] as? Double }
        let recorded = try TestSupport.runPython(format == "mcap" ? """
            import sys
            from mcap.reader import make_reader
            print(" ".join(str(m.log_time / 1e9) for _, _, m in make_reader(open(sys.argv[1], "rb")).iter_messages()))
            """ : """
            import sys
            from pathlib import Path
            from rosy.cli.bag.file import get_bag_file_messages
            print(" ".join(str(t.timestamp()) for t, *_ in get_bag_file_messages(Path(sys.argv[1]))))
            """, [directory.appendingPathComponent(file).path])
        XCTAssertEqual(recorded.status, 0, recorded.stderr)
        let recordedTimes = recorded.stdout.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        XCTAssertEqual(recordedTimes.count, 3)
        XCTAssertEqual(times.count, 3)
        for i in 1..<3 {
            XCTAssertGreaterThanOrEqual(times[i] - times[0], (recordedTimes[i] - recordedTimes[0]) * 0.9)
        }
    }

    func testRecordPlayInfoMCAP() throws {
        try recordPlayInfo(format: "mcap", file: "run.mcap")
    }

    func testRecordPlayInfoMCAPWithZstdChunks() throws {
        try recordPlayInfo(format: "mcap", file: "run-zstd.mcap", options: ["--compression", "zstd"])
        let chunks = try TestSupport.runPython("""
            import sys
            from mcap.reader import make_reader
            print(sorted({c.compression for c in make_reader(open(sys.argv[1], "rb")).get_summary().chunk_indexes}))
            """, [directory.appendingPathComponent("run-zstd.mcap").path])
        XCTAssertEqual(chunks.stdout, "['zstd']\n", chunks.stderr)
        let info = try rosy(["bag", "info", "-i", "run-zstd.mcap"])
        XCTAssertTrue(info.stdout.contains("format:   mcap (zstd chunks)\n"), info.stdout)
    }

    func testRecordPlayInfoRosyBag() throws {
        try recordPlayInfo(format: "rosy", file: "run.bag")
    }

    func testKilledRecordingKeepsItsChunks() throws {
        let recorder = try startRosy(["bag", "record", "pose"])
        recorder.waitFor("Recording topics to")
        for i in 0..<3 {
            XCTAssertEqual(try rosy(["topic", "send", "pose", "\(i)"]).status, 0)
        }
        recorder.waitFor(".", count: 3)
        Thread.sleep(forTimeInterval: 2.5)  // the recorder writes a chunk every second
        recorder.kill9()
        // The default name, found again without -i.
        let info = try rosy(["bag", "info"])
        XCTAssertEqual(info.status, 0, info.stderr)
        XCTAssertTrue(info.stdout.hasPrefix("path:     record_"), info.stdout)
        XCTAssertTrue(info.stdout.contains("messages: 3\n"), info.stdout)
        XCTAssertTrue(info.stdout.contains("complete: no"), info.stdout)
    }

    func testOtherCodecs() throws {
        for codec in ["json", "msgpack"] {
            let echo = try startRosy(["topic", "echo", "c", "--codec", codec])
            echo.waitFor("Listening to topics")
            let send = try rosy(["topic", "send", "c", "{'k': [1, 2.5]}", "'s'", "--codec", codec])
            XCTAssertEqual(send.status, 0, send.stderr)
            echo.waitFor("  1: 's'")
            XCTAssertEqual(echo.interrupt(), 0, echo.stderr)
            XCTAssertTrue(echo.stdout.contains("args:\n  0: {'k': [1, 2.5]}\n  1: 's'\n"), "\(codec): \(echo.stdout)")
        }
    }

    func testPlayImmediatelyOnlyChosenTopicsInALoop() throws {
        let file = directory.appendingPathComponent("made.mcap").path
        let writer = try MCAPRecordingWriter(path: file, topics: ["keep", "skip"])
        for i in 0..<4 {
            try writer.append(RecordedMessage(time: 1_000_000_000 + Int64(i) * 3_600_000_000_000, topic: i % 2 == 0 ? "keep" : "skip",
                                              args: [.int(Int64(i))], kwargs: [:]))
        }
        try writer.finish()
        let echo = try startRosy(["topic", "echo", "keep", "skip", "--json"])
        // An hour between messages: only --immediate gets them through in time.
        let play = try startRosy(["bag", "play", "-i", file, "--immediate", "--topics", "keep", "--loop", "--wait-for-listeners", "30"])
        echo.waitFor("\"topic\":\"keep\"", count: 6)
        XCTAssertEqual(play.interrupt(), 0, play.stderr)
        XCTAssertEqual(echo.interrupt(), 0, echo.stderr)
        XCTAssertFalse(echo.stdout.contains("\"topic\":\"skip\""), echo.stdout)
        // Played again and again (a flood, so a queue may drop some: count, not order).
        let lines = echo.stdout.split(separator: "\n")
        XCTAssertGreaterThanOrEqual(lines.filter { $0.contains("\"args\":[0]") }.count, 2, echo.stdout)
        XCTAssertGreaterThanOrEqual(lines.filter { $0.contains("\"args\":[2]") }.count, 2, echo.stdout)
    }

    func testLaunchIsRosyLaunch() throws {
        let rosyPath = TestSupport.executable("rosy").path
        let file = directory.appendingPathComponent("launch.yaml")
        try Data("""
            domain_id: \(domain)
            log_dir: \(directory.appendingPathComponent("logs").path)
            nodes:
              echoer:
                command: [\(rosyPath), topic, echo, launched-topic]
            """.utf8).write(to: file)
        let launch = try startRosy(["launch", file.path])
        let nodes = try rosy(["node", "list", "--discovery-time", "3"])
        XCTAssertTrue(nodes.stdout.contains("echoer@"), nodes.stdout + launch.stdout + launch.stderr)
        XCTAssertTrue(nodes.stdout.contains("  - 'launched-topic'"), nodes.stdout)
        launch.interrupt()
        let after = try rosy(["node", "list", "--discovery-time", "1"])
        XCTAssertTrue(after.stdout.hasPrefix("0 nodes:"), after.stdout)
    }
}
