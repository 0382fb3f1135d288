import Foundation
import RosyLaunch
import RosyTestSupport
import XCTest

final class LaunchConfigTests: XCTestCase {
    func testRosyDemoFileParsesUnchanged() throws {
        let python = try TestSupport.python()
        let venvLib = URL(fileURLWithPath: python).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("lib/python3.11/site-packages/rosy/demo/launch.yaml")
        let config = try LaunchConfigLoader().load(path: venvLib.path)
        XCTAssertEqual(config.nodes.map(\.name), ["topic_listener", "topic_sender"])
        XCTAssertEqual(config.nodes[0].command, .string("python -m rosy.demo.topic_listener"))
        XCTAssertEqual(config.nodes[0].postDelay, 1)
        XCTAssertTrue(config.nodes[0].shell)
        XCTAssertTrue(config.nodes[0].passName)
    }

    func testAllRosyKeys() throws {
        let config = try LaunchConfigLoader().parse("""
            domain_id: lab
            nodes:
              a:
                command: [python, -m, a]
                shell: true
                number: 3
                pre_delay: 0.5
                post_delay: 2
                disabled: false
                on_host: robot1
            """, file: "x.yaml")
        XCTAssertEqual(config.domainID, "lab")
        let node = try XCTUnwrap(config.nodes.first)
        XCTAssertEqual(node.command, .list(["python", "-m", "a"]))
        XCTAssertTrue(node.shell)
        XCTAssertEqual(node.number, 3)
        XCTAssertEqual(node.preDelay, 0.5)
        XCTAssertEqual(node.postDelay, 2)
        XCTAssertEqual(node.onHost, "robot1")
        XCTAssertEqual(node.location.line, 3)
    }

    func testRosyLaunchKeys() throws {
        let config = try LaunchConfigLoader().parse("""
            env: {A: "1"}
            log_dir: /var/log/rosy
            log_max_size: 10M
            log_keep: 5
            log_timestamps: yes
            nodes:
              a:
                command: run-a
                restart: always
                backoff: {initial: 0.2, factor: 3, max: 10, reset_after: 30}
                max_restarts: 4
                required: true
                env: {B: "${A}2"}
                cwd: /tmp
                args: [--fast]
                stop_signal: SIGINT
                stop_timeout: 3
                pass_name: false
                wait_for: [{topic: pose}, {service: plan}, {node: base}]
                wait_timeout: 20
              b:
                command: run-b
                after: [a]
            """, file: "x.yaml")
        XCTAssertEqual(config.environment, [EnvironmentEntry("A", "1")])
        XCTAssertEqual(config.logMaxSize, 10 << 20)
        XCTAssertEqual(config.logKeep, 5)
        XCTAssertTrue(config.logTimestamps)
        let a = config.nodes[0]
        XCTAssertEqual(a.restart, .always)
        XCTAssertEqual(a.backoff, Backoff(initial: 0.2, factor: 3, maximum: 10, resetAfter: 30))
        XCTAssertEqual(a.maxRestarts, 4)
        XCTAssertTrue(a.required)
        XCTAssertEqual(a.environment, [EnvironmentEntry("B", "${A}2")])
        XCTAssertEqual(a.workingDirectory, "/tmp")
        XCTAssertEqual(a.args, ["--fast"])
        XCTAssertEqual(a.stopSignal, SIGINT)
        XCTAssertEqual(a.stopTimeout, 3)
        XCTAssertFalse(a.passName)
        XCTAssertEqual(a.waitFor, [.topic("pose"), .service("plan"), .node("base")])
        XCTAssertEqual(a.waitTimeout, 20)
        XCTAssertEqual(config.nodes[1].after, ["a"])
    }

    /// Each malformed file names the line (and column) of its problem.
    func testMalformedFilesGiveTheirLine() {
        let cases: [(String, String, Int)] = [
            ("nodes:\n  a:\n    comand: x\n", "unknown key 'comand' in node 'a' (did you mean 'command'?)", 3),
            ("nodes:\n  a:\n    command: x\n    numbr: 2\n", "did you mean 'number'?", 4),
            ("nodez:\n  a:\n    command: x\n", "unknown key 'nodez' at the top level (did you mean 'nodes'?)", 1),
            ("nodes:\n  a:\n    command: x\n    number: two\n", "'number' must be a whole number", 4),
            ("nodes:\n  a:\n    command: x\n    number: -1\n", "'number' must be at least 0", 4),
            ("nodes:\n  a:\n    command: x\n    pre_delay: soon\n", "'pre_delay' must be a number of seconds", 4),
            ("nodes:\n  a:\n    command: x\n    disabled: maybe\n", "'disabled' must be true or false", 4),
            ("nodes:\n  a:\n    command: x\n    restart: sometimes\n", "'restart' must be one of", 4),
            ("nodes:\n  a:\n    command: x\n    restart: alway\n", "(did you mean 'always'?)", 4),
            ("nodes:\n  a:\n    command: x\n    stop_signal: SIGTREM\n", "unknown signal 'SIGTREM' (did you mean 'SIGTERM'?)", 4),
            ("nodes:\n  a:\n    shell: true\n", "node 'a' has no 'command'", 2),
            ("nodes:\n  a:\n    command: []\n", "must be a text or a non-empty list", 3),
            ("nodes:\n  a:\n    command: x\n  a:\n    command: y\n", "duplicate key", 2),
            ("nodes:\n  a:\n    command: x\n    backoff: {intial: 1}\n", "unknown key 'intial' in 'backoff' (did you mean 'initial'?)", 4),
            ("nodes:\n  a:\n    command: x\n    wait_for: [{topik: pose}]\n", "did you mean 'topic'?", 4),
            ("nodes:\n  a:\n    command: x\n    after: b\n  b:\n    command: y\n", "which starts later", 2),
            ("nodes:\n  a:\n    command: x\n    after: c\n", "waits for unknown node 'c'", 2),
            ("nodes:\n  a:\n    command: \"x\n", "YAML", 4),
            ("nodes:\n  a:\n    command: x\n   bad indent: 1\n", "YAML", 4),
            ("nodes:\n  - command: x\n", "'nodes' must be a mapping", 2),
            ("nodes:\n  a: just a string\n", "node 'a' must be a mapping", 2),
            ("domain_id: [1, 2]\nnodes: {}\n", "'domain_id' must be a text value", 1),
            ("log_max_size: huge\nnodes: {}\n", "'log_max_size' must be a size", 1),
        ]
        for (text, message, line) in cases {
            do {
                _ = try LaunchConfigLoader().parse(text, file: "bad.yaml")
                XCTFail("no error for:\n\(text)")
            } catch let error as LaunchConfigError {
                XCTAssertTrue(error.description.contains(message), "\(error) does not say '\(message)'")
                XCTAssertEqual(error.location?.line, line, "\(error) for:\n\(text)")
                XCTAssertTrue(error.description.hasPrefix("bad.yaml:\(line):"), error.description)
            } catch {
                XCTFail("unexpected \(error)")
            }
        }
    }

    func testIncludes() throws {
        let folder = try TestSupport.temporaryDirectory("rosy-include")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("parts"), withIntermediateDirectories: true)
        try "env: {SHARED: base}\nnodes:\n  base:\n    command: run-base\n"
            .write(to: folder.appendingPathComponent("parts/base.yaml"), atomically: true, encoding: .utf8)
        try "domain_id: d1\ninclude: parts/base.yaml\nnodes:\n  top:\n    command: run-top\n    after: base\n"
            .write(to: folder.appendingPathComponent("robot.yaml"), atomically: true, encoding: .utf8)
        let config = try LaunchConfigLoader().load(path: folder.appendingPathComponent("robot.yaml").path)
        XCTAssertEqual(config.nodes.map(\.name), ["base", "top"])
        XCTAssertEqual(config.domainID, "d1")
        XCTAssertEqual(config.environment, [EnvironmentEntry("SHARED", "base")])
        XCTAssertTrue(config.nodes[0].location.file.hasSuffix("parts/base.yaml"))

        // A duplicate across files names both places; a cycle is reported.
        try "include: ../robot.yaml\nnodes:\n  base:\n    command: again\n"
            .write(to: folder.appendingPathComponent("parts/base.yaml"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try LaunchConfigLoader().load(path: folder.appendingPathComponent("robot.yaml").path)) {
            XCTAssertTrue("\($0)".contains("include cycle"), "\($0)")
        }
        try "nodes:\n  top:\n    command: again\n"
            .write(to: folder.appendingPathComponent("parts/base.yaml"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try LaunchConfigLoader().load(path: folder.appendingPathComponent("robot.yaml").path)) {
            XCTAssertTrue("\($0)".contains("node 'top' is defined twice (first at "), "\($0)")
            XCTAssertTrue("\($0)".contains("robot.yaml:4:3"), "\($0)")
        }
    }

    func testEnvironmentExpansion() {
        let env = ["HOME": "/home/r", "EMPTY": ""]
        XCTAssertEqual(EnvironmentExpansion.expand("${HOME}/maps", in: env), "/home/r/maps")
        XCTAssertEqual(EnvironmentExpansion.expand("${MISSING}x", in: env), "x")
        XCTAssertEqual(EnvironmentExpansion.expand("${EMPTY:-fallback}", in: env), "fallback")
        XCTAssertEqual(EnvironmentExpansion.expand("${HOME:-x}", in: env), "/home/r")
        XCTAssertEqual(EnvironmentExpansion.expand("cost $$5 $HOME", in: env), "cost $5 $HOME")
        XCTAssertEqual(EnvironmentExpansion.expand("${unclosed", in: env), "${unclosed")
    }

    func testCommandLines() {
        XCTAssertEqual(CommandLineBuilder.arguments(for: .string("python -m demo"), shell: true, args: [], name: "cam"),
                       ["/bin/sh", "-c", "exec python -m demo --name cam"])
        XCTAssertEqual(CommandLineBuilder.arguments(for: .string("run"), shell: true, args: ["a b", ""], name: nil),
                       ["/bin/sh", "-c", "exec run \"a b\" \"\""])
        // Scripts that are more than one simple command stay as written.
        for script in ["a; b", "a && b", "a | b", "a > log", "(a)", "X=1 a", "if a; then b; fi", "a &", "echo $(date)", "{ a; }", "a # note"] {
            XCTAssertEqual(CommandLineBuilder.arguments(for: .string(script), shell: true, args: [], name: nil),
                           ["/bin/sh", "-c", script], script)
        }
        XCTAssertEqual(CommandLineBuilder.arguments(for: .string("${BIN:-.build/debug}/node"), shell: true, args: [], name: "n"),
                       ["/bin/sh", "-c", "exec ${BIN:-.build/debug}/node --name n"])
        XCTAssertEqual(CommandLineBuilder.arguments(for: .list(["run", "x"]), shell: false, args: ["--v"], name: "n"),
                       ["run", "x", "--v", "--name", "n"])
        XCTAssertEqual(CommandLineBuilder.arguments(for: .list(["echo $0", "a"]), shell: true, args: [], name: nil),
                       ["/bin/sh", "-c", "echo $0", "a"])
        XCTAssertEqual(CommandLineBuilder.arguments(for: .string("run 'a b' \"c\\\"d\" e\\ f"), shell: false, args: [], name: nil),
                       ["run", "a b", "c\"d", "e f"])
    }
}
