import Foundation
import Rosy
import RosyDiscovery
import RosyWire
import Synchronization
import XCTest

/// Collects values from callbacks and lets a test wait for a count of them.
final class Collector<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])

    func append(_ item: Element) { items.withLock { $0.append(item) } }
    var values: [Element] { items.withLock { $0 } }
    var count: Int { items.withLock { $0.count } }

    /// Waits (generously) until at least `count` values are in.
    func wait(for count: Int, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while self.count < count {
            if ContinuousClock.now >= deadline {
                throw TestError("timed out waiting for \(count) values, have \(self.count)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

struct TestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension NodeOptions {
    /// Options for an in-process test node in `mesh`.
    static func inProcess(_ mesh: InProcessMesh, tcp: Bool = false, unix: Bool = true) -> NodeOptions {
        var options = NodeOptions()
        options.discovery = mesh.discovery()
        options.codec = PickleCodec()
        options.allowTCPConnections = tcp
        options.allowUnixConnections = unix
        options.serverHosts = ["127.0.0.1"]
        options.advertisedHost = "127.0.0.1"
        return options
    }
}

/// Runs `body` with two nodes, "provider" and "caller", started in one in-process mesh,
/// and stops both when it returns or throws (a node the body stopped already is skipped).
func withProviderAndCaller(_ body: (_ provider: Node, _ caller: Node) async throws -> Void) async throws {
    let mesh = InProcessMesh()
    let provider = try await Node.start(name: "provider", options: .inProcess(mesh))
    let caller: Node
    do {
        caller = try await Node.start(name: "caller", options: .inProcess(mesh))
    } catch {
        await provider.stop()
        throw error
    }
    do {
        try await body(provider, caller)
    } catch {
        await caller.stop()
        await provider.stop()
        throw error
    }
    await caller.stop()
    await provider.stop()
}

/// Makes calls `0..<count` at once (`call(n)`, each in a child task, which keeps the task
/// executor preference of the caller) and keeps each one's value, or its error when it is a
/// `Failure`; any other error is thrown.
func concurrentCalls<Failure: Error>(
    _ count: Int64, failingWith _: Failure.Type, _ call: @escaping @Sendable (Int64) async throws -> Value
) async throws -> [Int64: Result<Value, Failure>] {
    try await withThrowingTaskGroup(of: (Int64, Result<Value, Failure>).self) { group in
        for n in Int64(0)..<count {
            group.addTask {
                do {
                    return (n, .success(try await call(n)))
                } catch let error as Failure {
                    return (n, .failure(error))
                }
            }
        }
        return try await group.reduce(into: [Int64: Result<Value, Failure>]()) { $0[$1.0] = $1.1 }
    }
}

/// The calling thread's voluntary context switches: the times it slept.
func voluntaryContextSwitches() -> Int {
    voluntaryContextSwitches(inStatusFile: "/proc/thread-self/status")
}

/// The voluntary context switches of every thread of a process: the times its threads slept.
func voluntaryContextSwitches(ofProcess pid: Int32) -> Int {
    let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
    return threads.reduce(0) { total, thread in
        total + voluntaryContextSwitches(inStatusFile: "/proc/\(pid)/task/\(thread)/status")
    }
}

/// The `voluntary_ctxt_switches` count of a `/proc/.../status` file (0 if unreadable).
private func voluntaryContextSwitches(inStatusFile path: String) -> Int {
    let status = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("voluntary_ctxt_switches:") }
    return line.flatMap { Int($0.split(separator: "\t").last?.trimmingCharacters(in: .whitespaces) ?? "") } ?? 0
}
