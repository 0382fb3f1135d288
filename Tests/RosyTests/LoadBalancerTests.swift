import Foundation
@testable import Rosy
import RosyDiscovery
import XCTest

final class LoadBalancerTests: XCTestCase {
    private func node(_ name: String) -> MeshNodeSpec {
        MeshNodeSpec(id: NodeID(name: name, hostname: "host"), connectionSpecs: [], topics: ["t"])
    }

    func testLeastRecentPicksNewNodesFirstThenTheLeastRecentlyChosen() {
        let picker = LeastRecentPicker()
        let a = node("w"), b = node("w"), c = node("w")
        let first = [picker.pick([a, b]), picker.pick([a, b])]
        XCTAssertEqual(Set(first.map(\.id)), [a.id, b.id], "both new nodes come before either repeats")
        // A node that joins later is new, so it comes first.
        XCTAssertEqual(picker.pick([a, b, c]).id, c.id)
        // Then the least recently chosen of the rest.
        XCTAssertEqual(picker.pick([a, b, c]).id, first[0].id)
        XCTAssertEqual(picker.pick([a, b, c]).id, first[1].id)
    }

    func testAForgottenNodeIsNewAgainAndItsSlotServesAnother() {
        let picker = LeastRecentPicker()
        let a = node("w"), b = node("w"), c = node("w")
        XCTAssertEqual(picker.pick([a]).id, a.id)
        XCTAssertEqual(picker.pick([b]).id, b.id)
        XCTAssertEqual(picker.pick([a, b]).id, a.id, "a was chosen before b")
        picker.forget(a.id)
        XCTAssertEqual(picker.pick([a, b]).id, a.id, "forgotten, a ranks as never chosen")
        picker.forget(b.id)
        XCTAssertEqual(picker.pick([c]).id, c.id)  // takes b's slot
        XCTAssertEqual(picker.pick([a, c]).id, a.id, "c was chosen after a")
        XCTAssertEqual(picker.pick([a, b, c]).id, b.id, "b never chosen since it was forgotten")
    }

    func testTheGroupingBalancerForgetsThroughItsPicker() {
        let picker = LeastRecentPicker()
        let balancer = GroupByNodeNameBalancer(picker: picker)
        let a = node("w"), b = node("w")
        XCTAssertEqual(picker.pick([a]).id, a.id)
        XCTAssertEqual(picker.pick([b]).id, b.id)
        balancer.forget(a.id)
        XCTAssertEqual(balancer.chooseNodes([a, b], topic: "t").map(\.id), [a.id], "forgotten, a ranks as never chosen")
        // Balancers that keep nothing take the call and do nothing.
        RoundRobinPicker().forget(a.id)
        EveryListenerBalancer().forget(a.id)
    }

    func testLeastRecentBreaksTiesAtRandom() {
        let a = node("w"), b = node("w")
        var firstPicks = Set<NodeID>()
        for _ in 0..<200 { firstPicks.insert(LeastRecentPicker().pick([a, b]).id) }
        XCTAssertEqual(firstPicks, [a.id, b.id])
    }

    func testLeastRecentBreaksTiesEvenlyWhereverTheTiedNodesStand() {
        let a = node("w"), b = node("w"), c = node("w")
        var counts: [NodeID: Int] = [:]
        for _ in 0..<1000 {
            let picker = LeastRecentPicker()
            _ = picker.pick([b])  // b was chosen: a and c tie, with b between them
            counts[picker.pick([a, b, c]).id, default: 0] += 1
        }
        XCTAssertNil(counts[b.id])
        // Half each; below 400 of 1000 has a chance under 1e-9.
        XCTAssertGreaterThan(counts[a.id] ?? 0, 400, "\(counts)")
        XCTAssertGreaterThan(counts[c.id] ?? 0, 400, "\(counts)")
    }

    func testServiceBalancersAnswerWithThePositionOfTheirChoice() {
        let a = node("w"), b = node("w")
        // The default position comes from chooseNode.
        struct Last: ServiceLoadBalancer {
            func chooseNode(_ nodes: [MeshNodeSpec], service: String) -> MeshNodeSpec? { nodes.last }
        }
        XCTAssertEqual(Last().chooseNodeIndex([a, b], service: "s"), 1)
        XCTAssertNil(Last().chooseNodeIndex([], service: "s"))
        // Least recent: both new nodes, then alternating.
        let picker = LeastRecentPicker()
        let picks = (0..<6).compactMap { _ in picker.chooseNodeIndex([a, b], service: "s") }
        XCTAssertEqual(picks.count, 6)
        for i in 1..<6 { XCTAssertNotEqual(picks[i], picks[i - 1]) }
        XCTAssertNil(picker.chooseNodeIndex([], service: "s"))
        let random = RandomPicker()
        XCTAssertEqual(Set((0..<200).compactMap { _ in random.chooseNodeIndex([a, b], service: "s") }), [0, 1])
    }

    func testDefaultTopicBalancerSendsToOneNodePerName() {
        let balancer = GroupByNodeNameBalancer()
        let workers = [node("worker"), node("worker"), node("worker")]
        let logger = node("logger")
        var perWorker: [NodeID: Int] = [:]
        for _ in 0..<30 {
            let chosen = balancer.chooseNodes(workers + [logger], topic: "t")
            XCTAssertEqual(chosen.count, 2)
            XCTAssertTrue(chosen.contains { $0.id == logger.id })
            for node in chosen where node.id.name == "worker" { perWorker[node.id, default: 0] += 1 }
        }
        XCTAssertEqual(perWorker.values.sorted(), [10, 10, 10])
    }

    func testRoundRobinTakesTurns() {
        let balancer = RoundRobinPicker()
        let nodes = [node("s"), node("s"), node("s")]
        let picks = (0..<6).compactMap { _ in balancer.chooseNode(nodes, service: "s")?.id }
        XCTAssertEqual(Array(picks[0..<3]), Array(picks[3..<6]))
        XCTAssertEqual(Set(picks).count, 3)
    }

    func testRandomPicksAmongTheNodes() {
        let balancer = RandomPicker()
        let nodes = [node("s"), node("s")]
        var seen = Set<NodeID>()
        for _ in 0..<200 { if let id = balancer.chooseNode(nodes, service: "s")?.id { seen.insert(id) } }
        XCTAssertEqual(seen, Set(nodes.map(\.id)))
        XCTAssertNil(balancer.chooseNode([], service: "s"))
    }

    func testEveryListenerSendsToAll() {
        let nodes = [node("a"), node("a"), node("b")]
        XCTAssertEqual(EveryListenerBalancer().chooseNodes(nodes, topic: "t"), nodes)
        XCTAssertEqual(GroupByNodeNameBalancer().chooseNodes([], topic: "t"), [])
        XCTAssertNil(LeastRecentPicker().chooseNode([], service: "s"))
    }
}
