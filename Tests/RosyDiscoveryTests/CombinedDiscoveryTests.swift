import Foundation
import RosyDiscovery
import RosyTestSupport
import XCTest

final class CombinedDiscoveryTests: XCTestCase {
    var base: URL!

    override func setUpWithError() throws {
        base = try TestSupport.temporaryDirectory("rosy-combined")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: base)
    }

    /// Two registry backends: the first (folder `local`) authoritative for removals, the
    /// second (folder `stale`) standing for an mDNS cache.
    func authoritativeAndStale() -> (CombinedDiscovery, URL, URL) {
        let authoritativeBase = base.appendingPathComponent("local")
        let staleBase = base.appendingPathComponent("stale")
        let combined = CombinedDiscovery([
            .init(LocalDiscovery(domainID: "d", baseDirectory: authoritativeBase), authoritativeForRemovals: true),
            .init(LocalDiscovery(domainID: "d", baseDirectory: staleBase)),
        ])
        return (combined, authoritativeBase, staleBase)
    }

    /// Two backends that both see every node (two registries, each node in both): each
    /// node is shown once, its update once, and its leave once.
    func testEachNodeIsShownOnce() async throws {
        let first = base.appendingPathComponent("first"), second = base.appendingPathComponent("second")
        let combined = CombinedDiscovery([
            .init(LocalDiscovery(domainID: "d", baseDirectory: first)),
            .init(LocalDiscovery(domainID: "d", baseDirectory: second)),
        ])
        let seen = MeshRecorder(combined.events)
        try await combined.register(testSpec("me"))

        let other = CombinedDiscovery([
            .init(LocalDiscovery(domainID: "d", baseDirectory: first)),
            .init(LocalDiscovery(domainID: "d", baseDirectory: second)),
        ])
        var spec = testSpec("other", topics: ["a"])
        try await other.register(spec)
        await seen.waitUntil("the other node") { $0[spec.id.uuid] == spec }
        spec.topics.insert("b")
        try await other.update(spec)
        await seen.waitUntil("its update") { $0[spec.id.uuid] == spec }
        await other.unregister()
        await seen.waitUntil("its leave") { $0[spec.id.uuid] == nil }
        await combined.unregister()

        let aboutOther = seen.events.filter { event in
            switch event {
            case .upserted(let s): return s.id.uuid == spec.id.uuid
            case .removed(let id): return id.uuid == spec.id.uuid
            }
        }
        XCTAssertEqual(aboutOther.count, 3, "one join, one update, one leave: \(aboutOther)")
    }

    /// A removal reported by the authoritative backend wins over a backend that still
    /// lists the node (an mDNS cache does, until the TTL runs out).
    func testAuthoritativeRemovalWins() async throws {
        let (combined, authoritativeBase, staleBase) = authoritativeAndStale()
        let seen = MeshRecorder(combined.events)
        try await combined.register(testSpec("me"))

        let uuid = UUID().uuidString.lowercased()
        let live = try ChildProcess.probe(["register", "--domain", "d", "--dir", authoritativeBase.path, "--uuid", uuid, "--name", "n"])
        let stale = try ChildProcess.probe(["register", "--domain", "d", "--dir", staleBase.path, "--uuid", uuid, "--name", "n"])
        await live.waitForLine("registered") { $0.hasPrefix("registered") }
        await stale.waitForLine("registered") { $0.hasPrefix("registered") }
        let key = try XCTUnwrap(UUID(uuidString: uuid))
        await seen.waitUntil("the node") { $0[key] != nil }

        live.kill(SIGKILL)
        await seen.waitUntil("the node killed") { $0[key] == nil }
        // The other backend reports it again when its entry changes: still ignored.
        stale.send("topic late")
        await stale.waitForLine("updated") { $0 == "updated" }
        stale.send("quit")
        stale.process.waitUntilExit()
        await combined.unregister()
        let upserts = seen.events.filter { if case .upserted(let s) = $0 { return s.id.uuid == key } else { return false } }
        XCTAssertEqual(upserts.count, 1, "\(upserts)")
        XCTAssertEqual(seen.events.last(where: {
            if case .removed(let id) = $0 { return id.uuid == key } else { return false }
        }).map { _ in true }, true)
    }

    /// While the authoritative backend reports a node, another backend's older copy of its
    /// spec (an mDNS announcement sent before the node's last update) does not replace it:
    /// the soak saw a Swift node's topic vanish for 70 ms that way (bench/soak).
    func testAuthoritativeSpecWinsOverAnOlderCopy() async throws {
        let (combined, authoritativeBase, staleBase) = authoritativeAndStale()
        let seen = MeshRecorder(combined.events)
        try await combined.register(testSpec("me"))

        let older = testSpec("node", topics: ["a"])
        var current = older
        current.topics.insert("b")
        let live = LocalDiscovery(domainID: "d", baseDirectory: authoritativeBase)
        try await live.register(current)
        await seen.waitUntil("the node as it is now") { $0[current.id.uuid] == current }

        // The other backend now reports the older spec, then a marker node: once the marker
        // shows, the older spec has been through the merge.
        let stale = LocalDiscovery(domainID: "d", baseDirectory: staleBase)
        try await stale.register(older)
        let marker = testSpec("marker")
        let markerDiscovery = LocalDiscovery(domainID: "d", baseDirectory: staleBase)
        try await markerDiscovery.register(marker)
        await seen.waitUntil("the marker") { $0[marker.id.uuid] != nil }
        XCTAssertEqual(seen.mesh[current.id.uuid], current, "the older copy replaced the current spec")

        // An update through the authoritative backend still shows.
        current.topics.insert("c")
        try await live.update(current)
        await seen.waitUntil("the update") { $0[current.id.uuid] == current }

        // When the authoritative backend no longer reports the node, it leaves at once.
        await live.unregister()
        await seen.waitUntil("its leave") { $0[current.id.uuid] == nil }
        for discovery in [stale, markerDiscovery] { await discovery.unregister() }
        await combined.unregister()
    }
}
