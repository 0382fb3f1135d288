import Foundation
@testable import RosyLaunch
import RosyDiscovery
import RosyTestSupport
import XCTest

/// `wait_for`: rosy-launch watches the mesh through the default discovery (here the local
/// registry under the launch's own XDG_RUNTIME_DIR) and starts a node once what it waits
/// for is there.
final class MeshReadinessTests: XCTestCase {
    func testNodeStartsOnceTheMeshShowsWhatItWaitsFor() throws {
        let launch = try LaunchHarness(yaml: """
            domain_id: lab
            nodes:
              planner:
                command: echo PLANNER RAN
                pass_name: false
                restart: never
                wait_for:
                  - topic: pose
                  - service: map
            """, environment: ["ROSY_DISCOVERY": "local"])
        launch.waitForOutput(containing: "logs in")
        // A peer in the same domain's registry, published through the real local backend.
        let registry = launch.folder.appendingPathComponent("run/rosy/discovery")
        let peer = LocalDiscovery(domainID: "lab", baseDirectory: registry)
        let spec = MeshNodeSpec(id: NodeID(name: "localizer", hostname: "here"),
                                connectionSpecs: [.unix(path: "/nonexistent", host: "here")],
                                topics: ["pose"], services: [])
        try Self.wait { try await peer.register(spec) }
        // Only the topic so far: the planner must not start.
        usleep(300_000)
        XCTAssertFalse(launch.output.contains("PLANNER RAN"), launch.output)
        let both = MeshNodeSpec(id: spec.id, connectionSpecs: spec.connectionSpecs, topics: ["pose"], services: ["map"])
        try Self.wait { try await peer.update(both) }
        launch.waitForOutput(containing: "PLANNER RAN")
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
        Self.wait { await peer.unregister() }
    }

    func testWaitForTimesOut() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              planner:
                command: echo PLANNER RAN
                wait_for: [{node: nobody}]
                wait_timeout: 0.5
            """, environment: ["ROSY_DISCOVERY": "local"])
        XCTAssertEqual(launch.waitForExit(), 0, launch.output)
        XCTAssertTrue(launch.output.contains("planner FAILED: waited 500 ms for node nobody in the mesh"), launch.output)
        XCTAssertFalse(launch.output.contains("PLANNER RAN"), launch.output)
    }

    /// The adapter's view follows a backend's events (an in-memory stand-in backend here, to
    /// check removals and the browse/unregister calls).
    func testDiscoveryViewFollowsEvents() throws {
        let backend = InMemoryDiscovery()
        let readiness = DiscoveryMeshReadiness(discovery: backend)
        let base = MeshNodeSpec(id: NodeID(name: "base", hostname: "robot"), connectionSpecs: [],
                                topics: ["pose"], services: ["plan"])
        XCTAssertFalse(readiness.isSatisfied(.node("base")))
        backend.send(.upserted(base))
        XCTAssertTrue(Self.eventually { readiness.isSatisfied(.node("base")) })
        XCTAssertTrue(readiness.isSatisfied(.topic("pose")))
        XCTAssertTrue(readiness.isSatisfied(.service("plan")))
        XCTAssertFalse(readiness.isSatisfied(.topic("map")))
        backend.send(.removed(base.id))
        XCTAssertTrue(Self.eventually { !readiness.isSatisfied(.node("base")) })
        XCTAssertTrue(backend.browsed)
        XCTAssertNil(readiness.problem)
        readiness.close()
        XCTAssertTrue(backend.unregistered)
    }

    static func eventually(_ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if condition() { return true }
            usleep(10_000)
        }
        return false
    }

    /// Runs async work from a synchronous test and waits for it.
    static func wait(_ work: @escaping @Sendable () async throws -> Void) throws {
        let result = ResultBox()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { try await work() } catch { result.set(error) }
            done.signal()
        }
        done.wait()
        if let error = result.get() { throw error }
    }

    static func wait(_ work: @escaping @Sendable () async -> Void) {
        let done = DispatchSemaphore(value: 0)
        Task {
            await work()
            done.signal()
        }
        done.wait()
    }
}

private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var error: (any Error)?
    func set(_ error: any Error) { lock.withLock { self.error = error } }
    func get() -> (any Error)? { lock.withLock { error } }
}

private final class InMemoryDiscovery: Discovery, @unchecked Sendable {
    let events: AsyncStream<MeshEvent>
    private let continuation: AsyncStream<MeshEvent>.Continuation
    private let lock = NSLock()
    private var _browsed = false
    private var _unregistered = false

    init() { (events, continuation) = AsyncStream.makeStream() }

    var browsed: Bool { lock.withLock { _browsed } }
    var unregistered: Bool { lock.withLock { _unregistered } }

    func send(_ event: MeshEvent) { continuation.yield(event) }
    func register(_ spec: MeshNodeSpec) async throws {}
    func update(_ spec: MeshNodeSpec) async throws {}
    func browse() async throws { lock.withLock { _browsed = true } }
    func unregister() async {
        lock.withLock { _unregistered = true }
        continuation.finish()
    }
}
