import Foundation
@testable import RosyLaunch
import RosyDiscovery
import RosyTestSupport
import XCTest

final class MeshReadinessTests: XCTestCase {
    /// Until a discovery backend is plugged in, a launch using wait_for says so and starts nothing.
    func testWaitForWithoutAMeshViewIsAClearError() throws {
        let launch = try LaunchHarness(yaml: """
            nodes:
              planner:
                command: echo PLANNER RAN
                wait_for: [{topic: pose}]
            """)
        XCTAssertEqual(launch.waitForExit(), 1, launch.output)
        XCTAssertTrue(launch.output.contains("'wait_for' needs the mesh"), launch.output)
        XCTAssertFalse(launch.output.contains("PLANNER RAN"), launch.output)
    }

    /// The adapter's view of the mesh, fed by a Discovery backend's events. The backend here is
    /// an in-memory stand-in: no real backend is in this branch yet.
    func testDiscoveryViewAnswersConditions() throws {
        let backend = InMemoryDiscovery()
        let readiness = DiscoveryMeshReadiness(discovery: backend, hostName: "here")
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
        XCTAssertEqual(backend.registered?.id.name, "rosy-launch")
        XCTAssertEqual(backend.registered?.topics, [])
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
}

private final class InMemoryDiscovery: Discovery, @unchecked Sendable {
    let events: AsyncStream<MeshEvent>
    private let continuation: AsyncStream<MeshEvent>.Continuation
    private let lock = NSLock()
    private var _registered: MeshNodeSpec?
    private var _unregistered = false

    init() { (events, continuation) = AsyncStream.makeStream() }

    var registered: MeshNodeSpec? { lock.lock(); defer { lock.unlock() }; return _registered }
    var unregistered: Bool { lock.lock(); defer { lock.unlock() }; return _unregistered }

    func send(_ event: MeshEvent) { continuation.yield(event) }
    func register(_ spec: MeshNodeSpec) async throws { lock.withLock { _registered = spec } }
    func update(_ spec: MeshNodeSpec) async throws {}
    func unregister() async {
        lock.withLock { _unregistered = true }
        continuation.finish()
    }
}
