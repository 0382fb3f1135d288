import Foundation
import RosyTestSupport
import XCTest

/// What a node gets: copies, names, environment; which nodes start at all.
final class SupervisorSpawnTests: XCTestCase {
    func testNumberStartsCopiesWithDistinctNames() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              camera:
                command: [/bin/sh, -c, 'echo "I am $2, copy $ROSY_LAUNCH_COPY"', sh]
                number: 3
                restart: never
            """)
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
        for index in 1...3 {
            let line = launch.output.split(separator: "\n").first { $0.hasPrefix("camera-\(index) ") && $0.contains(" | I am ") }
            XCTAssertEqual(line?.components(separatedBy: " | ").last, "I am camera-\(index), copy \(index)", launch.output)
        }
    }

    func testOnHostAndDisabledNodesAreSkipped() throws {
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? ""
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        let hostName = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        XCTAssertFalse(hostName.isEmpty, host)
        let launch = try LaunchHarness(yaml: """
            nodes:
              elsewhere:
                command: echo ELSEWHERE RAN
                on_host: not-\(hostName)
              off:
                command: echo OFF RAN
                disabled: true
              here:
                command: echo HERE RAN
                on_host: \(hostName)
                restart: never
            """)
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
        let output = launch.output
        XCTAssertTrue(output.contains("HERE RAN"), output)
        XCTAssertFalse(output.contains("ELSEWHERE RAN"), output)
        XCTAssertFalse(output.contains("OFF RAN"), output)
        XCTAssertTrue(output.contains("skipping elsewhere: on_host not-\(hostName)"), output)
        XCTAssertTrue(output.contains("skipping off: disabled"), output)
    }

    func testEnvironmentAndDomainReachTheChild() throws {
        let launch = try LaunchHarness(yaml: """
            domain_id: kitchen
            env:
              ROBOT: r2
            nodes:
              show:
                command: echo "domain=$ROSY_DOMAIN_ID robot=$ROBOT arm=$ARM home=$FROM_OUTSIDE"
                env:
                  ARM: ${ROBOT}-left
                restart: never
                pass_name: false
            """, environment: ["FROM_OUTSIDE": "kept"])
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
        XCTAssertTrue(launch.output.contains("domain=kitchen robot=r2 arm=r2-left home=kept"), launch.output)
    }

    func testWorkingDirectoryAndArgs() throws {
        let launch = try LaunchHarness(yaml: """
            env:
              PLACE: /usr
            nodes:
              where:
                command: [/bin/sh, -c, 'echo "in $(pwd) with $*"', sh]
                cwd: ${PLACE}/bin
                args: [--speed, "2"]
                pass_name: false
                restart: never
            """)
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
        XCTAssertTrue(launch.output.contains("in /usr/bin with --speed 2"), launch.output)
    }

    func testDomainIDOptionOverridesTheFile() throws {
        let launch = try LaunchHarness(yaml: """
            domain_id: kitchen
            nodes:
              show:
                command: echo "domain=$ROSY_DOMAIN_ID"
                restart: never
                pass_name: false
            """, arguments: ["--domain-id", "garage"])
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
        XCTAssertTrue(launch.output.contains("domain=garage"), launch.output)
    }

    func testNameIsAppendedAsRosyDoes() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              talker:
                command: [/bin/sh, -c, 'echo "args: $*"', sh, --rate, "1 Hz"]
                restart: never
            """)
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
        XCTAssertTrue(launch.output.contains("args: --rate 1 Hz --name talker"), launch.output)
    }

    func testExcludeAndOnly() throws {
        let yaml = """
            nodes:
              a: {command: echo A RAN, restart: never, pass_name: false}
              b: {command: echo B RAN, restart: never, pass_name: false}
              c: {command: echo C RAN, restart: never, pass_name: false}
            """
        let excluded = try LaunchHarness(yaml: yaml, arguments: ["-e", "a", "b"])
        XCTAssertEqual(excluded.waitForExit(), 0, excluded.output)
        XCTAssertEqual(["A RAN", "B RAN", "C RAN"].map { excluded.output.contains($0) }, [false, false, true], excluded.output)
        let only = try LaunchHarness(yaml: yaml, arguments: ["--only", "b"])
        XCTAssertEqual(only.waitForExit(), 0, only.output)
        XCTAssertEqual(["A RAN", "B RAN", "C RAN"].map { only.output.contains($0) }, [false, true, false], only.output)
    }

    func testMissingProgramIsReportedAndFails() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              ghost:
                command: [no-such-program-rosy]
                restart: never
            """)
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
        XCTAssertTrue(launch.output.contains("cannot start no-such-program-rosy: No such file or directory"), launch.output)
        XCTAssertTrue(launch.output.contains("ghost FAILED: could not start"), launch.output)
    }

    func testAfterWaitsForTheOtherNode() throws {
        // 'base' crashes at once the first time, long before its ready_after of 5 s; 'arm'
        // waits for base to count as started, so it starts only after base's second start.
        let launch = try LaunchHarness(yaml: """
            nodes:
              base:
                command: if [ -e ran ]; then echo base up; exec sleep 30; fi; touch ran; exit 1
                pass_name: false
                backoff: {initial: 0.5}
                ready_after: 5
              arm:
                command: echo arm up; exec sleep 30
                after: base
                pass_name: false
            """)
        launch.waitForOutput(containing: "arm up")
        let output = launch.output
        // 'arm' starts only once 'base' runs again after its crash: after base's second start.
        let baseStarts = output.ranges(of: "base started")
        XCTAssertEqual(baseStarts.count, 2, output)
        let armStarted = try XCTUnwrap(output.range(of: "arm started"))
        XCTAssertLessThan(try XCTUnwrap(baseStarts.last).lowerBound, armStarted.lowerBound, output)
        launch.signal(SIGTERM)
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
    }
}
