import Foundation
import RosyTestSupport
import XCTest

/// Restart policies, crash loops and required nodes, with real processes.
final class SupervisorRestartTests: XCTestCase {
    func testCrashingNodeIsRestartedWithGrowingDelaysUntilItFails() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              crasher:
                command: echo "run $$"; exit 3
                pass_name: false
                backoff: {initial: 0.05, factor: 2, max: 1}
                max_restarts: 3
            """)
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
        let output = launch.output
        XCTAssertEqual(output.components(separatedBy: "crasher started").count - 1, 4, output)
        let delays = output.split(separator: "\n").filter { $0.contains("crasher: restarting in") }
            .map { $0.components(separatedBy: "restarting in ").last ?? "" }
        XCTAssertEqual(delays, ["50 ms", "100 ms", "200 ms"], output)
        XCTAssertTrue(output.contains("crasher FAILED: exit status 3, 4 times in a row: gave up (max_restarts 3)"), output)

        // Never restarted earlier than scheduled: the gaps between starts grow.
        let starts = launch.mergedLog().split(separator: "\n").filter { $0.contains("crasher started") }
            .compactMap { Self.seconds(ofTimestamp: String($0.prefix(24))) }
        XCTAssertEqual(starts.count, 4)
        let gaps = zip(starts.dropFirst(), starts).map { $0 - $1 }
        for (gap, delay) in zip(gaps, [0.05, 0.1, 0.2]) {
            XCTAssertGreaterThanOrEqual(gap + 0.002, delay, "gaps \(gaps)")
        }
    }

    func testNeverPolicyIsNotRestarted() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              once:
                command: echo ran once; exit 1
                restart: never
                pass_name: false
              clean:
                command: [/bin/true]
                restart: never
                pass_name: false
            """)
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
        let output = launch.output
        XCTAssertEqual(output.components(separatedBy: "ran once").count - 1, 1, output)
        XCTAssertFalse(output.contains("restarting"), output)
        XCTAssertTrue(output.contains("once FAILED: exit status 1"), output)
        XCTAssertFalse(output.contains("clean FAILED"), output)
        XCTAssertTrue(output.contains("every node has ended"), output)
    }

    func testOnFailureRestartsOnlyAfterAFailure() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              flaky:
                # Fails the first time, succeeds the second.
                command: if [ -e ran ]; then echo second; exit 0; fi; touch ran; echo first; exit 1
                pass_name: false
                backoff: {initial: 0.01}
            """)
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
        XCTAssertEqual(launch.output.components(separatedBy: "flaky started").count - 1, 2, launch.output)
        XCTAssertTrue(launch.output.contains("flaky       | second"), launch.output)
    }

    func testRequiredFailureStopsTheLaunch() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              worker:
                command: trap 'echo worker stopping; exit 0' TERM; echo worker up; while true; do sleep 0.05; done
                pass_name: false
              brain:
                command: echo brain dies; exit 7
                required: true
                restart: never
                pass_name: false
                pre_delay: 0.2
            """)
        let status = launch.waitForExit()
        XCTAssertNotNil(status)
        XCTAssertNotEqual(status, 0, launch.output)
        let output = launch.output
        XCTAssertTrue(output.contains("brain is required: stopping the launch"), output)
        XCTAssertTrue(output.contains("worker stopping"), output)
        XCTAssertTrue(output.contains("stopped because a required node failed: brain: exit status 7"), output)
    }

    func testNothingRestartsWhileTheLaunchStops() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              flaky:
                command: sleep 0.05; exit 1
                pass_name: false
                restart: always
                max_restarts: 100000
                backoff: {initial: 0.01, max: 0.01}
              slow:
                command: trap 'sleep 0.5; echo slow done; exit 0' TERM; echo slow up; while true; do sleep 0.05; done
                pass_name: false
            """)
        launch.waitForOutput("flaky restarted") { $0.contains("slow up") && $0.components(separatedBy: "flaky started").count > 3 }
        launch.signal(SIGTERM)
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
        let output = launch.output
        let stopAt = try XCTUnwrap(output.range(of: "SIGTERM: stopping"))
        XCTAssertTrue(output.contains("slow done"), output)
        XCTAssertFalse(output[stopAt.upperBound...].contains("flaky started"), "restarted while stopping:\n\(output)")
    }

    func testDependentNodeFailsWhenWhatItWaitsForFails() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              base:
                command: exit 2
                pass_name: false
                restart: never
                ready_after: 30
              arm:
                command: echo ARM RAN
                after: base
            """)
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
        XCTAssertTrue(launch.output.contains("arm FAILED: node base failed"), launch.output)
        XCTAssertFalse(launch.output.contains("ARM RAN"), launch.output)
    }

    func testWaitTimeout() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              base:
                command: exec sleep 1000
                pass_name: false
                ready_after: 1000
              arm:
                command: echo ARM RAN
                after: base
                wait_timeout: 0.3
                required: true
            """)
        XCTAssertEqual(launch.waitForExit(), 1, launch.output)
        XCTAssertTrue(launch.output.contains("arm FAILED: waited 300 ms for node base"), launch.output)
        XCTAssertTrue(launch.output.contains("arm is required: stopping the launch"), launch.output)
        XCTAssertFalse(launch.output.contains("ARM RAN"), launch.output)
    }

    /// `2026-11-25T13:30:00.123Z` -> seconds of the day.
    static func seconds(ofTimestamp text: String) -> Double? {
        let parts = text.dropFirst(11).dropLast().split(separator: ":")
        guard parts.count == 3, let h = Double(parts[0]), let m = Double(parts[1]), let s = Double(parts[2]) else { return nil }
        return h * 3600 + m * 60 + s
    }
}
