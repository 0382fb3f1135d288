import Foundation
import RosyTestSupport
import XCTest

/// A process running while a test goes on: its output so far, waiting for a line, Ctrl+C.
final class BackgroundProcess: @unchecked Sendable {  // mutable state only under `lock`
    let process = Process()
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()

    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], directory: URL? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let directory { process.currentDirectoryURL = directory }
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice
        outPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.lock(); self.out.append(data); self.lock.unlock()
        }
        errPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.lock(); self.err.append(data); self.lock.unlock()
        }
        try process.run()
    }

    /// `rosy` with these arguments.
    static func rosy(_ arguments: [String], directory: URL? = nil) throws -> BackgroundProcess {
        try BackgroundProcess(TestSupport.executable("rosy").path, arguments, directory: directory)
    }

    var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: out, as: UTF8.self) }
    var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: err, as: UTF8.self) }

    /// Waits until stdout contains `text` `count` times; fails the test after `timeout` seconds.
    @discardableResult
    func waitFor(_ text: String, count: Int = 1, timeout: TimeInterval = 30,
                 file: StaticString = #filePath, line: UInt = #line) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if stdout.components(separatedBy: text).count - 1 >= count { return true }
            if !process.isRunning, stdout.components(separatedBy: text).count - 1 < count { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTFail("no \(count)× \"\(text)\" in the output of \(process.arguments ?? []):\n\(stdout)\nstderr:\n\(stderr)", file: file, line: line)
        return false
    }

    /// Sends SIGINT (Ctrl+C) and waits for the exit; returns the status (-9 if it had to be killed).
    @discardableResult
    func interrupt(timeout: TimeInterval = 20) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGINT) }
        return waitForExit(timeout: timeout)
    }

    /// Waits for the process to end by itself; kills it after `timeout` seconds (status -9).
    @discardableResult
    func waitForExit(timeout: TimeInterval = 60) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            drain()
            return -9
        }
        process.waitUntilExit()
        drain()
        return process.terminationStatus
    }

    func kill9() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        drain()
    }

    /// Reads what is left in the pipes after the exit.
    private func drain() {
        Thread.sleep(forTimeInterval: 0.1)
        for (pipe, isOut) in [(process.standardOutput, true), (process.standardError, false)] {
            guard let pipe = pipe as? Pipe else { continue }
            pipe.fileHandleForReading.readabilityHandler = nil
            let rest = (try? pipe.fileHandleForReading.readToEnd()) ?? nil
            if let rest {
                lock.lock()
                if isOut { out.append(rest) } else { err.append(rest) }
                lock.unlock()
            }
        }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
