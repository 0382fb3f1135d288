import Foundation
import RosyTestSupport
import XCTest

/// Stopping: reverse order, stop signals, timeouts, second Ctrl+C, and no orphans.
final class SupervisorStopTests: XCTestCase {
    func testStopsInReverseOrderWithEachStopSignal() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              first:
                command: trap 'echo first got TERM; exit 0' TERM; echo first up; while true; do sleep 0.05; done
                pass_name: false
              second:
                command: trap 'echo second got INT; exit 0' INT; echo second up; while true; do sleep 0.05; done
                stop_signal: SIGINT
                pass_name: false
              third:
                command: trap 'echo third got USR1; exit 0' USR1; echo third up; while true; do sleep 0.05; done
                stop_signal: USR1
                pass_name: false
            """)
        launch.waitForOutput("all three up") { $0.contains("first up") && $0.contains("second up") && $0.contains("third up") }
        launch.signal(SIGINT)
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
        let output = launch.output
        let ends = ["third", "second", "first"].compactMap { output.range(of: "\($0) (pid")?.lowerBound }
        XCTAssertEqual(ends.count, 3, output)
        XCTAssertEqual(ends, ends.sorted(), "not stopped in reverse order:\n\(output)")
        for text in ["first got TERM", "second got INT", "third got USR1"] {
            XCTAssertTrue(output.contains(text), output)
        }
    }

    func testStopTimeoutEndsWithSIGKILL() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              stubborn:
                command: trap '' TERM; echo stubborn up; while true; do sleep 0.05; done
                stop_timeout: 0.3
                pass_name: false
            """)
        launch.waitForOutput(containing: "stubborn up")
        launch.signal(SIGTERM)
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
        XCTAssertTrue(launch.output.contains("stubborn did not stop within 300 ms: SIGKILL"), launch.output)
        XCTAssertTrue(launch.output.contains("killed by SIGKILL"), launch.output)
    }

    func testSecondInterruptKillsAtOnce() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              stubborn:
                command: trap '' TERM; echo stubborn up; while true; do sleep 0.05; done
                stop_timeout: 3600
                pass_name: false
            """)
        launch.waitForOutput(containing: "stubborn up")
        launch.signal(SIGINT)
        launch.waitForOutput(containing: "SIGINT: stopping")
        launch.signal(SIGINT)
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
        XCTAssertTrue(launch.output.contains("SIGINT again: killing every node now"), launch.output)
    }

    func testBackgroundGrandchildDiesWithItsNode() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              parent:
                command: sleep 1000 & echo $! > grandchild.pid; echo parent leaves; exit 0
                restart: never
                pass_name: false
              keeper:
                command: echo keeper up; exec sleep 1000
                pass_name: false
            """)
        launch.waitForOutput("parent ended") { $0.contains("parent (pid") && $0.contains("keeper up") }
        let grandchild = Processes.pids(in: launch.folder.appendingPathComponent("grandchild.pid"))
        XCTAssertEqual(grandchild.count, 1)
        XCTAssertEqual(Processes.waitUntilGone(grandchild), [], "the grandchild outlived its node")
        XCTAssertTrue(launch.process.isRunning, "the launch goes on with 'keeper'")
        launch.signal(SIGTERM)
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
    }

    func testNoProcessRemainsAfterSupervisorIsKilled() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              helpers:
                command: echo $$ >> pids; sleep 1000 & echo $! >> pids; echo helpers up; wait
                number: 2
                pass_name: false
              plain:
                command: echo $$ >> pids; echo plain up; exec sleep 1000
                pass_name: false
            """)
        let pidFile = launch.folder.appendingPathComponent("pids")
        launch.waitForOutput("every node up") { _ in Processes.pids(in: pidFile).count == 5 }
        let supervisor = launch.process.processIdentifier
        let children = Self.children(of: supervisor)
        let nodes = Processes.pids(in: pidFile)
        XCTAssertEqual(children.count, 4, "three nodes and the watchdog: \(children)")
        XCTAssertTrue(nodes.allSatisfy(Processes.isAlive))
        kill(supervisor, SIGKILL)
        launch.process.waitUntilExit()
        let survivors = Processes.waitUntilGone(nodes + children)
        XCTAssertEqual(survivors, [], "processes of the launch survived its supervisor")
    }

    func testHelperThatLeftItsGroupDiesWhenSupervisorIsKilled() throws {
        // The helper calls setsid: it is in no node's process group, yet it must not survive.
        let launch = try LaunchHarness(yaml: """
            nodes:
              daemonizer:
                command: setsid sleep 1000 & echo $! > helper.pid; echo $$ >> pids; echo up; exec sleep 1000
                pass_name: false
            """)
        launch.waitForOutput(containing: "watching process group")
        let helper = Processes.pids(in: launch.folder.appendingPathComponent("helper.pid"))
        XCTAssertEqual(helper.count, 1)
        XCTAssertTrue(helper.allSatisfy(Processes.isAlive))
        kill(launch.process.processIdentifier, SIGKILL)
        launch.process.waitUntilExit()
        let all = helper + Processes.pids(in: launch.folder.appendingPathComponent("pids"))
        XCTAssertEqual(Processes.waitUntilGone(all), [], "the setsid helper survived")
    }

    func testHelperThatLeftItsGroupJustNowDiesWhenSupervisorIsKilled() throws {
        // Killed before the supervisor's every-2-s scan saw the helper's group: the watchdog
        // finds it as a descendant of the node.
        let launch = try LaunchHarness(yaml: """
            nodes:
              daemonizer:
                command: sleep 0.3; setsid sh -c 'echo $$ > helper.pid; exec sleep 1000' & echo $$ >> pids; exec sleep 1000
                pass_name: false
            """)
        let pidFile = launch.folder.appendingPathComponent("helper.pid")
        launch.waitForOutput("helper pid") { _ in Processes.pids(in: pidFile).count == 1 }
        let helper = Processes.pids(in: pidFile)
        kill(launch.process.processIdentifier, SIGKILL)
        let all = helper + Processes.pids(in: launch.folder.appendingPathComponent("pids"))
        let survivors = Processes.waitUntilGone(all)
        XCTAssertEqual(survivors, [], "the setsid helper survived")
        // A survivor keeps Foundation from seeing rosy-launch's exit: end it before waiting.
        for pid in survivors { kill(pid, SIGKILL) }
        launch.process.waitUntilExit()
        XCTAssertFalse(launch.output.contains("watching process group"), "the scan came first: \(launch.output)")
    }

    func testHelperOfANodeThatEndedDiesWhenSupervisorIsKilledAtOnce() throws {
        // The node ends 0.3 s after its helper called setsid: the helper is the supervisor's
        // child now, in no node's group and no node's descendant. The supervisor learns its
        // group as it reaps the node, not at its next every-2-s scan.
        let launch = try LaunchHarness(yaml: """
            nodes:
              keeper:
                command: echo $$ >> pids; exec sleep 1000
                pass_name: false
              daemonizer:
                command: setsid sh -c 'echo $$ > helper.pid; exec sleep 1000' & sleep 0.3
                pass_name: false
            """)
        launch.waitForOutput(containing: "ended:")
        kill(launch.process.processIdentifier, SIGKILL)
        let all = Processes.pids(in: launch.folder.appendingPathComponent("helper.pid"))
            + Processes.pids(in: launch.folder.appendingPathComponent("pids"))
        XCTAssertEqual(all.count, 2, launch.output)
        let survivors = Processes.waitUntilGone(all)
        XCTAssertEqual(survivors, [], "the helper of the node that ended survived")
        for pid in survivors { kill(pid, SIGKILL) }
        launch.process.waitUntilExit()
        let output = launch.output
        let watching = try XCTUnwrap(output.range(of: "watching process group"), output)
        let ended = try XCTUnwrap(output.range(of: "ended:"), output)
        XCTAssertLessThan(watching.lowerBound, ended.lowerBound, output)
    }

    func testHelperThatLeftItsGroupDiesAtACleanStop() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              daemonizer:
                command: setsid sleep 1000 & echo $! > helper.pid; echo up; exec sleep 1000
                pass_name: false
            """)
        launch.waitForOutput(containing: "up")
        let pidFile = launch.folder.appendingPathComponent("helper.pid")
        launch.waitForOutput("helper pid") { _ in Processes.pids(in: pidFile).count == 1 }
        launch.signal(SIGTERM)
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
        XCTAssertEqual(Processes.waitUntilGone(Processes.pids(in: pidFile)), [], "the setsid helper survived")
    }

    func testCleanStopLeavesNoProcess() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              helpers:
                command: echo $$ >> pids; sleep 1000 & echo $! >> pids; echo helpers up; wait
                pass_name: false
            """)
        let pidFile = launch.folder.appendingPathComponent("pids")
        launch.waitForOutput("node up") { _ in Processes.pids(in: pidFile).count == 2 }
        let all = Processes.pids(in: pidFile) + Self.children(of: launch.process.processIdentifier)
        launch.signal(SIGTERM)
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
        XCTAssertEqual(all.filter(Processes.isAlive), [])
    }

    static func children(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(pid_t.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && pid_t(fields[1]) == parent
        }
    }
}
