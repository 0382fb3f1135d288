import Foundation
import RosyTestSupport
import Synchronization

/// A child process whose stdout lines a test can wait for; killed when the test ends.
final class RunningProcess: Sendable {
    private let process: Process
    private let lines = Mutex<[String]>([])
    private let partial = Mutex<String>("")
    private let errors = Mutex<String>("")

    init(_ executable: String, _ arguments: [String] = [], environment: [String: String] = [:]) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        out.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            let text = String(decoding: data, as: UTF8.self)
            self.partial.withLock { partial in
                partial += text
                while let newline = partial.firstIndex(of: "\n") {
                    let line = String(partial[..<newline])
                    partial.removeSubrange(...newline)
                    self.lines.withLock { $0.append(line) }
                }
            }
        }
        err.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.errors.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
        try process.run()
    }

    /// Starts one of this package's executables.
    static func product(_ name: String, _ arguments: [String] = [], environment: [String: String] = [:]) throws -> RunningProcess {
        let path = TestSupport.executable(name).path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestError("\(path) is missing: build the package's executables first (swift build)")
        }
        return try RunningProcess(path, arguments, environment: environment)
    }

    var output: [String] { lines.withLock { $0 } }
    var standardError: String { errors.withLock { $0 } }
    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// Waits until a line satisfying `match` appears; returns it.
    @discardableResult
    func waitForLine(timeout: Duration = .seconds(60), _ match: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let line = output.first(where: match) { return line }
            if ContinuousClock.now >= deadline || (!process.isRunning && output.first(where: match) == nil && ContinuousClock.now >= deadline) {
                throw TestError("no matching line; stdout: \(output), stderr: \(standardError)")
            }
            if !process.isRunning {
                try await Task.sleep(for: .milliseconds(100))
                if let line = output.first(where: match) { return line }
                throw TestError("process exited (\(process.terminationStatus)) without a matching line; stdout: \(output), stderr: \(standardError)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func waitForLine(_ text: String, timeout: Duration = .seconds(60)) async throws {
        try await waitForLine(timeout: timeout) { $0 == text }
    }

    /// Waits for the process to exit (killing it after `timeout`); returns its status.
    @discardableResult
    func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                kill(pid, SIGKILL)
                process.waitUntilExit()
                throw TestError("process did not exit in time; stdout: \(output), stderr: \(standardError)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        try await Task.sleep(for: .milliseconds(50))  // let the last output arrive
        return process.terminationStatus
    }

    func signal(_ number: Int32) {
        if process.isRunning { kill(pid, number) }
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}
