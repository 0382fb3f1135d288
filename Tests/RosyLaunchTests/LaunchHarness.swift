import Foundation
import RosyTestSupport
import XCTest

/// Runs the real `rosy-launch` executable on a launch file in a fresh folder, with its own
/// runtime folder (control socket) and log folder, and reads what it wrote.
final class LaunchHarness {
    let folder: URL
    let file: URL
    let process = Process()
    private let outputURL: URL
    var environment: [String: String]

    static var executable: String { TestSupport.executable("rosy-launch").path }

    init(yaml: String, arguments: [String] = [], environment: [String: String] = [:],
         start: Bool = true, launcher: [String] = []) throws {
        folder = try TestSupport.temporaryDirectory("rosy-launch")
        file = folder.appendingPathComponent("robot.yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        outputURL = folder.appendingPathComponent("output.txt")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        self.environment = ProcessInfo.processInfo.environment.merging([
            "XDG_RUNTIME_DIR": folder.appendingPathComponent("run").path,
            "NO_COLOR": "1",
        ].merging(environment) { $1 }) { $1 }
        let output = try FileHandle(forWritingTo: outputURL)
        let launch = [Self.executable, file.path, "--log-dir", folder.appendingPathComponent("logs").path] + arguments
        if launcher.isEmpty {
            process.executableURL = URL(fileURLWithPath: Self.executable)
            process.arguments = Array(launch.dropFirst())
        } else {
            process.executableURL = URL(fileURLWithPath: launcher[0])
            process.arguments = Array(launcher.dropFirst()) + launch
        }
        process.environment = self.environment
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        process.currentDirectoryURL = folder
        if start { try process.run() }
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: folder)
    }

    /// What rosy-launch printed (stdout and stderr).
    var output: String {
        (try? String(contentsOf: outputURL, encoding: .utf8)) ?? ""
    }

    /// The run's log folder.
    var runFolder: URL { folder.appendingPathComponent("logs/robot-latest").resolvingSymlinksInPath() }

    /// The merged log, rotated files first.
    func mergedLog() -> String {
        var text = ""
        let base = runFolder.appendingPathComponent("launch.log").path
        for index in stride(from: 20, through: 1, by: -1) {
            if let part = try? String(contentsOfFile: "\(base).\(index)", encoding: .utf8) { text += part }
        }
        return text + ((try? String(contentsOfFile: base, encoding: .utf8)) ?? "")
    }

    /// Waits until the output satisfies `condition` (generous timeout; fails the test otherwise).
    @discardableResult
    func waitForOutput(_ what: String, timeout: TimeInterval = 60,
                       file: StaticString = #filePath, line: UInt = #line,
                       _ condition: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(output) { return true }
            usleep(20_000)
        }
        XCTFail("timed out waiting for \(what); output:\n\(output.suffix(3000))", file: file, line: line)
        return false
    }

    @discardableResult
    func waitForOutput(containing text: String, timeout: TimeInterval = 60,
                       file: StaticString = #filePath, line: UInt = #line) -> Bool {
        waitForOutput("'\(text)'", timeout: timeout, file: file, line: line) { $0.contains(text) }
    }

    /// Waits for rosy-launch to exit; returns its status (nil on timeout, after killing it).
    func waitForExit(timeout: TimeInterval = 60) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Runs `rosy-launch ARGS` (a control command) against this launch.
    func control(_ arguments: [String]) throws -> ProcessResult {
        try TestSupport.run(Self.executable, arguments, environment: environment, timeout: 30)
    }
}

/// Process helpers for orphan checks.
enum Processes {
    /// Whether a process exists and is not a zombie.
    static func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        guard let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state != "Z" && state != "X"
    }

    /// Waits until none of `pids` is alive; returns those still alive after the timeout.
    static func waitUntilGone(_ pids: [pid_t], timeout: TimeInterval = 30) -> [pid_t] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if !pids.contains(where: isAlive) { return [] }
            usleep(20_000)
        }
        return pids.filter(isAlive)
    }

    /// Reads pids written one per line into a file.
    static func pids(in file: URL) -> [pid_t] {
        ((try? String(contentsOf: file, encoding: .utf8)) ?? "")
            .split(whereSeparator: \.isNewline).compactMap { pid_t($0.trimmingCharacters(in: .whitespaces)) }
    }
}
