import Foundation

/// Helpers shared by the test suites: where things are, and running real processes.
public enum TestSupport {
    /// The package's root folder (the one holding Package.swift).
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    /// The folder holding the built products (executables) of this test run,
    /// e.g. `.build/debug`: the test bundle is built there too.
    public static let productsDirectory: URL = {
        var url = URL(fileURLWithPath: CommandLine.arguments.first(where: { $0.hasSuffix(".xctest") })
            ?? Bundle.main.bundlePath)
        while url.pathExtension == "xctest" || url.lastPathComponent == "MacOS" || url.lastPathComponent == "Contents" {
            url.deleteLastPathComponent()
        }
        if !FileManager.default.fileExists(atPath: url.appendingPathComponent("rosy").path) {
            let fallback = packageRoot.appendingPathComponent(".build/debug")
            if FileManager.default.fileExists(atPath: fallback.path) { return fallback }
        }
        return url
    }()

    /// A built executable of this package, by product name (`rosy`, `rosy-launch`, `topic_sender`, ...).
    public static func executable(_ name: String) -> URL {
        productsDirectory.appendingPathComponent(name)
    }

    /// The Python interpreter of the test venv, which has rosy 0.8.3, msgpack, orjson and mcap.
    /// `ROSY_TEST_PYTHON` names it; else `.venv/bin/python3` in the package root.
    /// Throws when it is missing: interop tests fail, never skip, without their peer.
    public static func python() throws -> String {
        if let path = ProcessInfo.processInfo.environment["ROSY_TEST_PYTHON"], !path.isEmpty {
            return path
        }
        let path = packageRoot.appendingPathComponent(".venv/bin/python3").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw TestSupportError("no test venv at \(path): run `bash .ci/setup-venv` (or set ROSY_TEST_PYTHON)")
        }
        return path
    }

    /// A new empty temporary folder.
    public static func temporaryDirectory(_ prefix: String = "rosy-test") throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs a program to completion and returns its exit status, stdout and stderr.
    /// The program is killed after `timeout` seconds (then the status is -9).
    @discardableResult
    public static func run(
        _ executable: String, _ arguments: [String] = [],
        environment: [String: String]? = nil, input: Data? = nil,
        currentDirectory: URL? = nil, timeout: TimeInterval = 60
    ) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let out = Pipe(), err = Pipe(), inPipe = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inPipe
        try process.run()
        if let input { inPipe.fileHandleForWriting.write(input) }
        try? inPipe.fileHandleForWriting.close()
        // Read both pipes concurrently so a chatty child never blocks on a full pipe.
        let outData = LockedData(), errData = LockedData()
        let group = DispatchGroup()
        for (pipe, sink) in [(out, outData), (err, errData)] {
            group.enter()
            DispatchQueue.global().async {
                sink.set(pipe.fileHandleForReading.readDataToEndOfFile())
                group.leave()
            }
        }
        let deadline = DispatchTime.now() + timeout
        var timedOut = false
        if group.wait(timeout: deadline) == .timedOut {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
            group.wait()
        }
        process.waitUntilExit()
        return ProcessResult(
            status: timedOut ? -9 : process.terminationStatus,
            stdout: String(decoding: outData.get(), as: UTF8.self),
            stderr: String(decoding: errData.get(), as: UTF8.self))
    }

    /// Runs Python code with the test venv's interpreter.
    @discardableResult
    public static func runPython(_ code: String, _ arguments: [String] = [], input: Data? = nil,
                                 environment: [String: String]? = nil, timeout: TimeInterval = 60) throws -> ProcessResult {
        try run(try python(), ["-c", code] + arguments, environment: environment, input: input, timeout: timeout)
    }
}

/// What a finished process left behind.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

private final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    func set(_ d: Data) { lock.lock(); data = d; lock.unlock() }
    func get() -> Data { lock.lock(); defer { lock.unlock() }; return data }
}
