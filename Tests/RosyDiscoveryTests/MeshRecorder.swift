import Foundation
import RosyDiscovery
import RosyTestSupport
import Synchronization
import XCTest

/// Follows a discovery's events and keeps the mesh they describe, so a test can wait
/// (with a generous timeout) until the mesh looks as expected.
final class MeshRecorder: Sendable {
    private let box = MeshBox()
    private let task: Task<Void, Never>

    init(_ stream: AsyncStream<MeshEvent>) {
        let box = self.box
        task = Task {
            for await event in stream { box.append(event) }
        }
    }

    var mesh: [UUID: MeshNodeSpec] { box.read { $0.mesh } }
    var events: [MeshEvent] { box.read { $0.events } }

    /// Waits until `condition` holds for the mesh; fails the test after `timeout` seconds.
    @discardableResult
    func waitUntil(_ what: String, timeout: TimeInterval = 20,
                   file: StaticString = #filePath, line: UInt = #line,
                   _ condition: ([UUID: MeshNodeSpec]) -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition(mesh) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        XCTFail("timed out waiting for: \(what); mesh is \(mesh.values.map(\.id))", file: file, line: line)
        return false
    }

    deinit { task.cancel() }
}

private final class MeshBox: Sendable {
    private let mutex = Mutex<(mesh: [UUID: MeshNodeSpec], events: [MeshEvent])>(([:], []))
    func append(_ event: MeshEvent) {
        mutex.withLock { state in
            state.events.append(event)
            switch event {
            case .upserted(let spec): state.mesh[spec.id.uuid] = spec
            case .removed(let id): state.mesh[id.uuid] = nil
            }
        }
    }
    func read<T>(_ body: ((mesh: [UUID: MeshNodeSpec], events: [MeshEvent])) -> T) -> T {
        mutex.withLock { body($0) }
    }
}

/// A node spec for tests.
func testSpec(_ name: String, topics: Set<String> = [], services: Set<String> = []) -> MeshNodeSpec {
    let uuid = UUID()
    return MeshNodeSpec(
        id: NodeID(name: name, hostname: "testhost", uuid: uuid),
        connectionSpecs: [.unix(path: "/tmp/\(uuid).sock", host: "testhost"),
                          .ip(host: "testhost.local", port: 1234, family: 2)],
        topics: topics, services: services)
}

/// A child process (e.g. `rosy-discovery-probe`), driven through its stdin, whose output
/// lines are collected as they come.
final class ChildProcess {
    let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let lines = LinesBox()

    init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardInput = input
        process.standardOutput = output
        let lines = self.lines
        output.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil; return }
            lines.append(String(decoding: data, as: UTF8.self))
        }
        try process.run()
    }

    /// `rosy-discovery-probe` with these arguments.
    static func probe(_ arguments: [String], environment: [String: String]? = nil) throws -> ChildProcess {
        try ChildProcess(TestSupport.executable("rosy-discovery-probe").path, arguments, environment: environment)
    }

    var outputLines: [String] { lines.lines }

    func send(_ command: String) {
        input.fileHandleForWriting.write((command + "\n").data(using: .utf8)!)
    }

    func closeInput() { try? input.fileHandleForWriting.close() }

    /// Waits for a line of output that satisfies `match` and returns it.
    @discardableResult
    func waitForLine(_ what: String, timeout: TimeInterval = 30,
                     file: StaticString = #filePath, line: UInt = #line,
                     _ match: (String) -> Bool) async -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let found = lines.lines.last(where: match) { return found }
            if !process.isRunning, let found = lines.lines.last(where: match) { return found }
            try? await Task.sleep(for: .milliseconds(20))
        }
        XCTFail("no output line \(what); the process printed \(lines.lines)", file: file, line: line)
        return nil
    }

    func kill(_ signal: Int32 = SIGKILL) {
        Foundation.kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    deinit {
        if process.isRunning {
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

private final class LinesBox: Sendable {
    private let mutex = Mutex<(lines: [String], partial: String)>(([], ""))
    func append(_ text: String) {
        mutex.withLock { state in
            state.partial += text
            while let newline = state.partial.firstIndex(of: "\n") {
                state.lines.append(String(state.partial[..<newline]))
                state.partial = String(state.partial[state.partial.index(after: newline)...])
            }
        }
    }
    var lines: [String] { mutex.withLock { $0.lines } }
}
