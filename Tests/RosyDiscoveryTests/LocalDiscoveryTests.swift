import Foundation
import RosyDiscovery
import RosyTestSupport
import XCTest

final class LocalDiscoveryTests: XCTestCase {
    var base: URL!

    override func setUpWithError() throws {
        base = try TestSupport.temporaryDirectory("rosy-registry")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: base)
    }

    func testTwoNodesSeeJoinsUpdatesAndLeaves() async throws {
        let a = LocalDiscovery(domainID: "test", baseDirectory: base)
        let b = LocalDiscovery(domainID: "test", baseDirectory: base)
        let seenByA = MeshRecorder(a.events)
        let seenByB = MeshRecorder(b.events)
        let specA = testSpec("alpha", topics: ["pose"])
        var specB = testSpec("beta", services: ["add"])

        try await a.register(specA)
        try await b.register(specB)
        await seenByA.waitUntil("A sees B") { $0[specB.id.uuid] == specB }
        await seenByB.waitUntil("B sees A") { $0[specA.id.uuid] == specA }
        XCTAssertNil(seenByA.mesh[specA.id.uuid], "a node is not told about itself")

        specB.topics = ["scan", "odom"]
        try await b.update(specB)
        await seenByA.waitUntil("A sees B's new topics") { $0[specB.id.uuid]?.topics == ["scan", "odom"] }

        await b.unregister()
        await seenByA.waitUntil("A sees B leave") { $0[specB.id.uuid] == nil }
        XCTAssertEqual(seenByA.events.last, .removed(specB.id))
        await a.unregister()
        let left = try FileManager.default.contentsOfDirectory(atPath: a.directory.path)
        XCTAssertEqual(left, [], "unregistering removes a node's files")
    }

    func testDomainsAreSeparate() async throws {
        let a = LocalDiscovery(domainID: "one", baseDirectory: base)
        let b = LocalDiscovery(domainID: "two", baseDirectory: base)
        let c = LocalDiscovery(domainID: "one", baseDirectory: base)
        let seenByA = MeshRecorder(a.events)
        let specB = testSpec("b"), specC = testSpec("c")
        try await a.register(testSpec("a"))
        try await b.register(specB)
        try await c.register(specC)
        // C joined after B: once A sees C, a B in A's domain would have been seen too.
        await seenByA.waitUntil("A sees C") { $0[specC.id.uuid] != nil }
        XCTAssertNil(seenByA.mesh[specB.id.uuid])
        XCTAssertNotEqual(a.directory, b.directory)
        for discovery in [a, b, c] { await discovery.unregister() }
    }

    /// A node in another process: its join, its updates, its clean leave, and a watcher
    /// in another process seeing this process's node.
    func testNodesInSeparateProcesses() async throws {
        let here = LocalDiscovery(domainID: "test", baseDirectory: base)
        let seenHere = MeshRecorder(here.events)
        let mine = testSpec("here", topics: ["t1"])
        try await here.register(mine)

        let watcher = try ChildProcess.probe(["watch", "--domain", "test", "--dir", base.path])
        let uuid = mine.id.uuid.uuidString.lowercased()
        await watcher.waitForLine("listing this node") { $0.hasPrefix("up \(uuid) here ") && $0.contains("topics=t1 ") }

        let registrant = try ChildProcess.probe(
            ["register", "--domain", "test", "--dir", base.path, "--name", "there", "--topic", "a"])
        guard let line = await registrant.waitForLine("registered", { $0.hasPrefix("registered ") }),
              let theirs = UUID(uuidString: String(line.dropFirst("registered ".count))) else { return }
        await seenHere.waitUntil("the other process's node") { $0[theirs]?.topics == ["a"] && $0[theirs]?.id.name == "there" }
        registrant.send("topic b")
        await seenHere.waitUntil("its update") { $0[theirs]?.topics == ["a", "b"] }
        registrant.send("quit")
        await seenHere.waitUntil("its leave") { $0[theirs] == nil }
        registrant.process.waitUntilExit()
        XCTAssertEqual(registrant.process.terminationStatus, 0)

        await here.unregister()
        await watcher.waitForLine("this node's leave") { $0 == "down \(uuid)" }
        watcher.kill(SIGTERM)
    }

    func testNodeKilledWithSIGKILLIsDroppedAndCleanedUp() async throws {
        let here = LocalDiscovery(domainID: "test", baseDirectory: base)
        let seenHere = MeshRecorder(here.events)
        try await here.browse()
        let registrant = try ChildProcess.probe(["register", "--domain", "test", "--dir", base.path, "--name", "victim"])
        guard let line = await registrant.waitForLine("registered", { $0.hasPrefix("registered ") }),
              let uuid = UUID(uuidString: String(line.dropFirst("registered ".count))) else { return }
        await seenHere.waitUntil("the victim joins") { $0[uuid] != nil }

        registrant.kill(SIGKILL)
        await seenHere.waitUntil("the killed node is dropped") { $0[uuid] == nil }
        let left = try FileManager.default.contentsOfDirectory(atPath: here.directory.path)
        XCTAssertFalse(left.contains { $0.hasPrefix(uuid.uuidString.lowercased()) }, "stale files remain: \(left)")
        await here.unregister()
    }

    /// An entry that is not a registry record is ignored (the node goes on and still sees
    /// the others); a node that registers later is seen.
    func testBadEntryIsIgnored() async throws {
        let here = LocalDiscovery(domainID: "test", baseDirectory: base)
        let seenHere = MeshRecorder(here.events)
        try await here.register(testSpec("here"))
        // A live holder for the garbage entry, so it is not swept as dead.
        let bogus = UUID().uuidString.lowercased()
        let lockFD = open(here.directory.appendingPathComponent("\(bogus).lock").path, O_RDWR | O_CREAT, 0o600)
        XCTAssertEqual(flock(lockFD, LOCK_EX), 0)
        defer { close(lockFD) }
        for garbage in [Data([0xff, 0x00, 0x12]), Data("{\"version\": 1}".utf8), Data("{\"version\": 99, \"name\": 1}".utf8)] {
            try garbage.write(to: here.directory.appendingPathComponent("\(bogus).node"))
            try await Task.sleep(for: .milliseconds(100))
        }
        let other = LocalDiscovery(domainID: "test", baseDirectory: base)
        let spec = testSpec("other")
        try await other.register(spec)
        await seenHere.waitUntil("a good node next to the bad entry") { $0[spec.id.uuid] != nil }
        XCTAssertEqual(Set(seenHere.mesh.keys), [spec.id.uuid])
        await other.unregister()
        await here.unregister()
    }

    func testSameNodeRegisteredTwiceIsAnError() async throws {
        let spec = testSpec("twin")
        let first = LocalDiscovery(domainID: "test", baseDirectory: base)
        try await first.register(spec)
        let second = LocalDiscovery(domainID: "test", baseDirectory: base)
        do {
            try await second.register(spec)
            XCTFail("a second registration of one uuid succeeded")
        } catch {
            XCTAssertTrue("\(error)".contains("already registered"), "\(error)")
        }
        await second.unregister()
        await first.unregister()
    }
}
