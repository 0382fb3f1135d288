import Foundation
import RosyTestSupport
import XCTest

/// `rosy-launch status|start|stop|restart|logs|shutdown` against a running launch.
final class ControlTests: XCTestCase {
    func testControlCommands() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              pinger:
                command: echo "pinger up $$"; while true; do sleep 0.05; done
                pass_name: false
              other:
                command: echo other up; exec sleep 1000
                pass_name: false
            """)
        launch.waitForOutput("both up") { $0.contains("pinger up") && $0.contains("other up") }

        var status = try launch.control(["status"])
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertTrue(status.stdout.contains("NODE"), status.stdout)
        let pingerRow = try XCTUnwrap(status.stdout.split(separator: "\n").first { $0.hasPrefix("pinger") })
        XCTAssertTrue(pingerRow.contains("running"), status.stdout)

        // JSON status: pids are the real ones.
        let json = try launch.control(["status", "--json"])
        let decoded = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let nodes = try XCTUnwrap(decoded?["nodes"] as? [[String: Any]])
        let firstPID = try XCTUnwrap(nodes.first { $0["node"] as? String == "pinger" }?["pid"] as? Int)
        XCTAssertTrue(Processes.isAlive(pid_t(firstPID)))

        // stop: down and stays down; the launch goes on.
        XCTAssertEqual(try launch.control(["stop", "pinger"]).status, 0)
        launch.waitForOutput(containing: "pinger (pid \(firstPID)) ended")
        status = try launch.control(["status"])
        XCTAssertTrue(status.stdout.split(separator: "\n").first { $0.hasPrefix("pinger") }?.contains("exited") == true,
                      status.stdout)
        XCTAssertTrue(launch.process.isRunning)

        // start: up again with a new pid.
        XCTAssertEqual(try launch.control(["start", "pinger"]).status, 0)
        launch.waitForOutput("second start") { $0.components(separatedBy: "pinger started").count == 3 }

        // restart: stopped and started.
        XCTAssertEqual(try launch.control(["restart", "pinger"]).status, 0)
        launch.waitForOutput("third start") { $0.components(separatedBy: "pinger started").count == 4 }

        // Unknown node: an error that suggests the name.
        let unknown = try launch.control(["stop", "pingr"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("did you mean 'pinger'"), unknown.stderr)

        // logs: the last lines, filtered by node.
        let logs = try launch.control(["logs", "-n", "2", "pinger"])
        XCTAssertEqual(logs.status, 0, logs.stderr)
        let lines = logs.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, logs.stdout)
        XCTAssertTrue(lines.allSatisfy { $0.split(separator: " ")[1] == "pinger" }, logs.stdout)
        let all = try launch.control(["logs", "-n", "1000"])
        XCTAssertTrue(all.stdout.contains("other up"), all.stdout)

        // shutdown: a clean stop.
        XCTAssertEqual(try launch.control(["shutdown"]).status, 0)
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
        XCTAssertNotEqual(try launch.control(["status"]).status, 0, "the socket is gone")
    }

    func testLogsFollowPrintsNewLines() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              ticker:
                command: i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.05; done
                pass_name: false
            """)
        launch.waitForOutput(containing: "tick 3")
        let follower = Process()
        follower.executableURL = URL(fileURLWithPath: LaunchHarness.executable)
        follower.arguments = ["logs", "-f", "-n", "0", "ticker"]
        follower.environment = launch.environment
        let out = launch.folder.appendingPathComponent("follow.txt")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        follower.standardOutput = try FileHandle(forWritingTo: out)
        try follower.run()
        defer { if follower.isRunning { follower.terminate() } }
        let deadline = Date().addingTimeInterval(30)
        var text = ""
        while Date() < deadline {
            text = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
            if text.split(separator: "\n").count >= 5 { break }
            usleep(50_000)
        }
        XCTAssertGreaterThanOrEqual(text.split(separator: "\n").count, 5, text)
        XCTAssertTrue(text.split(separator: "\n").allSatisfy { $0.contains("ticker") && $0.contains("tick ") }, text)
        // The follower ends by itself when the launch ends.
        launch.signal(SIGTERM)
        XCTAssertEqual(launch.waitForExit(), 0)
        let end = Date().addingTimeInterval(30)
        while follower.isRunning && Date() < end { usleep(50_000) }
        XCTAssertFalse(follower.isRunning, "logs -f did not end with the launch")
    }

    func testLogsOfAnEndedLaunch() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              once: {command: echo "once said hello", restart: never, pass_name: false}
            """)
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
        let logDir = launch.folder.appendingPathComponent("logs").path
        let logs = try launch.control(["logs", "--launch", "robot", "--log-dir", logDir, "-n", "100", "once"])
        XCTAssertEqual(logs.status, 0, logs.stderr)
        XCTAssertTrue(logs.stdout.contains("once        | once said hello"), logs.stdout)
        let missing = try launch.control(["logs", "--launch", "nothing", "--log-dir", logDir])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("no earlier run"), missing.stderr)
    }

    func testCheckAndDryRun() throws {
        let launch = try LaunchHarness(yaml: """
            domain_id: lab
            nodes:
              cam:
                command: python -m cam
                number: 2
              arm:
                command: [arm-driver, --port, /dev/tty USB0]
                disabled: true
            """, start: false)
        let check = try launch.control(["--check", launch.file.path])
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertTrue(check.stdout.contains("ok, 2 nodes (2 processes start on this host)"), check.stdout)
        let dry = try launch.control([launch.file.path, "--dry-run"])
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertTrue(dry.stdout.contains("cam-1: /bin/sh -c 'exec python -m cam --name cam-1'"), dry.stdout)
        XCTAssertTrue(dry.stdout.contains("skip arm: disabled"), dry.stdout)
        XCTAssertTrue(dry.stdout.contains("ROSY_DOMAIN_ID=lab"), dry.stdout)
    }

    func testCheckReportsTheLine() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              cam:
                comand: python -m cam
            """, start: false)
        let check = try launch.control(["--check", launch.file.path])
        XCTAssertEqual(check.status, 2)
        XCTAssertTrue(check.stderr.contains("robot.yaml:3:5: unknown key 'comand' in node 'cam' (did you mean 'command'?)"),
                      check.stderr)
    }
}
