import Foundation
import RosyTestSupport
import XCTest

/// The `rosy` executable's answers to bad input: one `Error:` line on stderr (a bad literal
/// adds the text and a caret under it), a non-zero status, nothing on stdout, no trace.
final class CommandLineErrorTests: XCTestCase {
    private func rosy(_ arguments: [String], in directory: URL? = nil) throws -> ProcessResult {
        try TestSupport.run(TestSupport.executable("rosy").path, arguments, currentDirectory: directory, timeout: 60)
    }

    private func assertOneLineError(_ result: ProcessResult, contains text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(result.status, 0, file: file, line: line)
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 1, "stderr: \(result.stderr)", file: file, line: line)
        XCTAssertTrue(lines.first?.hasPrefix("Error: ") ?? false, result.stderr, file: file, line: line)
        XCTAssertTrue(result.stderr.contains(text), "stderr: \(result.stderr)", file: file, line: line)
        XCTAssertEqual(result.stdout, "", file: file, line: line)
    }

    func testVersionAndHelp() throws {
        let version = try rosy(["--version"])
        XCTAssertEqual(version.status, 0)
        XCTAssertTrue(version.stdout.contains("rosy 0.8.3"), version.stdout)
        for command in [["topic", "send"], ["service", "call"], ["bag", "record"], ["bag", "play"], ["bag", "info"],
                        ["node", "list"], ["topic", "echo"], ["speedtest", "send"], ["speedtest", "recv"]] {
            let help = try rosy(command + ["--help"])
            XCTAssertEqual(help.status, 0, "\(command)")
            XCTAssertTrue(help.stdout.contains("USAGE: rosy \(command.joined(separator: " "))"), help.stdout)
        }
        // `rosy launch` is rosy-launch, help included.
        let launchHelp = try rosy(["launch", "--help"])
        XCTAssertEqual(launchHelp.status, 0)
        XCTAssertTrue(launchHelp.stdout.contains("USAGE: rosy-launch"), launchHelp.stdout)
        let noFile = try rosy(["launch", "/nonexistent/launch.yaml"])
        XCTAssertNotEqual(noFile.status, 0)
        XCTAssertEqual(noFile.stderr.split(separator: "\n").count, 1, noFile.stderr)
        XCTAssertTrue(noFile.stderr.contains("/nonexistent/launch.yaml"), noFile.stderr)
        // No command at all: the overview, and status 2 as rosy.
        let bare = try rosy([])
        XCTAssertEqual(bare.status, 2)
        XCTAssertTrue(bare.stdout.contains("SUBCOMMANDS"))
    }

    func testUnknownCommandAndOption() throws {
        assertOneLineError(try rosy(["frobnicate"]), contains: "frobnicate")
        assertOneLineError(try rosy(["topic", "list", "--bogus"]), contains: "Unknown option '--bogus'")
        // Between the literals of send and call too (where `-3` is an argument).
        assertOneLineError(try rosy(["topic", "send", "t", "-3", "--bogus"]), contains: "Unknown option '--bogus'")
        assertOneLineError(try rosy(["bag", "play", "--rate", "0", "-i", "x.bag"]), contains: "--rate")
        assertOneLineError(try rosy(["bag", "record", "t", "-o", "x.bag", "--compression", "zstd"]),
                           contains: "--compression applies to MCAP recordings")
        assertOneLineError(try rosy(["bag", "record", "t", "--compression", "bz2"]), contains: "bz2")
    }

    func testBadLiteralPointsAtTheCharacter() throws {
        let result = try rosy(["topic", "send", "some-topic", "1", "[1, 2 x]"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertEqual(result.stdout, "")
        XCTAssertEqual(result.stderr, """
            Error: bad literal '[1, 2 x]': expected ',' or ']' (column 7)
              [1, 2 x]
                    ^

            """)
        let bareWord = try rosy(["service", "call", "svc", "hello"])
        XCTAssertNotEqual(bareWord.status, 0)
        XCTAssertTrue(bareWord.stderr.hasPrefix("Error: bad literal 'hello': 'hello' is not a Python literal"), bareWord.stderr)
        assertOneLineError(try rosy(["topic", "send", "t", "k=1", "2"]), contains: "must come before the keyword arguments")
    }

    func testMissingAndCorruptRecordings() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        assertOneLineError(try rosy(["bag", "info"], in: dir), contains: "no record_*.mcap or record_*.bag file")
        assertOneLineError(try rosy(["bag", "info", "-i", "missing.bag"], in: dir), contains: "no such recording: missing.bag")
        let garbage = dir.appendingPathComponent("garbage.bag")
        try Data("this is not a recording\n".utf8).write(to: garbage)
        assertOneLineError(try rosy(["bag", "info", "-i", garbage.path]), contains: "is not a recording")
        // A pickle stream with a refused global: corrupt, and nothing is run.
        let evil = dir.appendingPathComponent("evil.bag")
        let made = try TestSupport.runPython("""
            import pickle, sys, os
            class Evil:
                def __reduce__(self): return (os.system, ("echo pwned",))
            open(sys.argv[1], "wb").write(pickle.dumps(Evil()))
            """, [evil.path])
        XCTAssertEqual(made.status, 0, made.stderr)
        let result = try rosy(["bag", "play", "-i", evil.path])
        assertOneLineError(result, contains: "corrupt .bag file")
        let mcap = dir.appendingPathComponent("bad.mcap")
        try Data([0x89, 0x4D, 0x43, 0x41, 0x50, 0x30, 0x0D, 0x0A, 0x07, 1, 0, 0, 0, 0, 0, 0, 0, 0]).write(to: mcap)
        assertOneLineError(try rosy(["bag", "info", "-i", mcap.path]), contains: "header")
    }
}
