import Foundation
import RosyTestSupport
import XCTest

/// Output routing: prefixes, stderr marks, files, and floods.
final class LogRoutingTests: XCTestCase {
    func testFourFloodingNodesLoseNoLineAndMixNone() throws {
        let count = 100_000
        let nodes = (1...4).map { index in
            """
              flood\(index):
                command: [seq, -f, "flood\(index)-%06g-abcdefghijklmnopqrstuvwxyz0123456789", "1", "\(count)"]
                restart: never
                pass_name: false
            """
        }.joined(separator: "\n")
        let launch = try LaunchHarness(yaml: "log_max_size: 8M\nlog_keep: 20\nnodes:\n" + nodes)
        XCTAssertEqual(launch.waitForExit(timeout: 300), 0, String(launch.output.suffix(2000)))
        let merged = launch.mergedLog()
        var seen = [String: Set<Int>]()
        var malformed = 0
        var duplicates = 0
        for line in merged.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
            // 2026-11-25T13:30:00.123Z flood1      | flood1-000001-abc...
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 4, fields[1].hasPrefix("flood") else { continue }
            guard fields.count == 4, fields[2] == "|" else { malformed += 1; continue }
            let parts = fields[3].split(separator: "-")
            guard parts.count == 3, parts[0] == fields[1], let number = Int(parts[1]),
                  parts[2] == "abcdefghijklmnopqrstuvwxyz0123456789" else { malformed += 1; continue }
            if !seen[String(fields[1]), default: []].insert(number).inserted { duplicates += 1 }
        }
        XCTAssertEqual(malformed, 0, "lines cut or mixed")
        XCTAssertEqual(duplicates, 0)
        for index in 1...4 {
            XCTAssertEqual(seen["flood\(index)"]?.count, count, "flood\(index) lost lines")
        }
        // Rotation kept old files (8M per file).
        XCTAssertTrue(FileManager.default.fileExists(atPath: launch.runFolder.appendingPathComponent("launch.log.1").path))
        // The node's own file holds its lines too.
        let nodeLog = try String(contentsOf: launch.runFolder.appendingPathComponent("nodes/flood2.log"), encoding: .utf8)
        XCTAssertTrue(nodeLog.contains("flood2-100000-"), "node log misses its last line")
        XCTAssertFalse(nodeLog.contains("flood3-"), "node log holds another node's lines")
    }

    func testAFloodDoesNotStallAQuietNode() throws {
        // 'ticker' prints a line every 10 ms while 'flood' writes half a million lines as fast as
        // it can: ticker's lines keep arriving in the middle of the flood, none lost.
        let launch = try LaunchHarness(yaml: """
            log_max_size: 1G
            nodes:
              ticker:
                command: i=0; while [ $i -lt 100000 ]; do i=$((i+1)); echo "tick $i"; sleep 0.01; done
                pass_name: false
              flood:
                command: yes 'flood line' | head -n 500000
                pass_name: false
                restart: never
                pre_delay: 0.2
            """)
        launch.waitForOutput("flood ended", timeout: 300) { $0.contains("flood (pid") }
        launch.signal(SIGTERM)
        XCTAssertEqual(launch.waitForExit(), 0)
        let lines = launch.mergedLog().split(separator: "\n")
        let floods = lines.indices.filter { lines[$0].hasSuffix("| flood line") }
        XCTAssertEqual(floods.count, 500_000)
        let first = try XCTUnwrap(floods.first), last = try XCTUnwrap(floods.last)
        let ticksDuringFlood = lines[first...last].filter { $0.contains("| tick ") }.count
        XCTAssertGreaterThanOrEqual(ticksDuringFlood, 2, "the quiet node was stalled by the flood")
        let ticks = lines.compactMap { line -> Int? in
            guard let range = line.range(of: "| tick ") else { return nil }
            return Int(line[range.upperBound...])
        }
        XCTAssertEqual(ticks, Array(1...ticks.count), "ticker lost or reordered lines")
    }

    func testAStuckTerminalDoesNotStallTheSupervisor() throws {
        // rosy-launch's stdout is a pipe nobody reads for now: it fills after 64 KiB, yet the
        // supervisor goes on (log files, exits, restarts), and later the terminal gets every line.
        let folder = try TestSupport.temporaryDirectory("rosy-stuck")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("stuck.yaml")
        try """
            nodes:
              flood:
                command: seq -f 'line %g' 1 200000
                pass_name: false
                restart: never
              crasher:
                command: echo crash; exit 1
                pass_name: false
                max_restarts: 3
            """.write(to: file, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: LaunchHarness.executable)
        process.arguments = [file.path, "--log-dir", folder.appendingPathComponent("logs").path]
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["XDG_RUNTIME_DIR": folder.appendingPathComponent("run").path, "NO_COLOR": "1"]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let merged = folder.appendingPathComponent("logs/stuck-latest/launch.log")
        let deadline = Date().addingTimeInterval(120)
        var log = ""
        while Date() < deadline {
            log = (try? String(contentsOf: merged, encoding: .utf8)) ?? ""
            if log.contains("crasher FAILED") && log.contains("flood (pid") { break }
            usleep(50_000)
        }
        XCTAssertTrue(log.contains("crasher FAILED"), "the supervisor stalled behind its terminal")
        XCTAssertTrue(log.contains("flood (pid"), "the supervisor stalled behind its terminal")
        // Now read the terminal: every line arrives, and the launch ends by itself.
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertEqual(text.split(separator: "\n").filter { $0.hasPrefix("flood ") && $0.contains("| line ") }.count, 200_000)
        XCTAssertTrue(text.contains("every node has ended"))
    }

    func testStderrIsMarkedAndPartialAndLongLinesAreKept() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              talker:
                command: printf 'out line\\n'; printf 'err line\\n' >&2; head -c 200000 /dev/zero | tr '\\0' x; echo; printf 'no newline at end'
                restart: never
                pass_name: false
            """)
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
        let output = launch.output
        XCTAssertTrue(output.contains("talker      | out line\n"), output)
        XCTAssertTrue(output.contains("talker      ! err line\n"), output)
        XCTAssertTrue(output.contains("talker      | no newline at end\n"), output)
        // A 200,000-byte line arrives in pieces of at most 64 KiB, every byte kept.
        let xs = output.split(separator: "\n").filter { $0.hasPrefix("talker      | xx") }
        XCTAssertEqual(xs.map { $0.count - "talker      | ".count }.reduce(0, +), 200_000)
        XCTAssertEqual(xs.count, 4)
    }

    func testColorsOnlyWhenAskedAndNoColorRespected() throws {
        let yaml = """
            nodes:
              talker: {command: echo hi, restart: never, pass_name: false}
            """
        let colored = try LaunchHarness(yaml: yaml, arguments: ["--color", "always"])
        XCTAssertEqual(colored.waitForExit(), 0)
        XCTAssertTrue(colored.output.contains("\u{1B}[36mtalker"), colored.output)
        // NO_COLOR is set by the harness and the output is not a terminal: no escapes.
        let plain = try LaunchHarness(yaml: yaml)
        XCTAssertEqual(plain.waitForExit(), 0)
        XCTAssertFalse(plain.output.contains("\u{1B}["), plain.output)
    }

    func testTimestampsOption() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              talker: {command: echo stamped, restart: never, pass_name: false}
            """, arguments: ["--timestamps"])
        XCTAssertEqual(launch.waitForExit(), 0)
        let line = try XCTUnwrap(launch.output.split(separator: "\n").first { $0.contains("stamped") })
        // 13:30:00.123 talker | stamped
        XCTAssertEqual(line.prefix(12).filter { $0 == ":" }.count, 2, String(line))
        XCTAssertEqual(line.dropFirst(8).first, ".", String(line))
    }
}
