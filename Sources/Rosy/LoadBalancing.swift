import struct Foundation.UUID
import RosyDiscovery
import Synchronization

/// Chooses which of a topic's listening nodes get one message.
///
/// ```swift
/// let node = try await Node.start(name: "camera", topicLoadBalancer: .everyListener)
/// ```
public protocol TopicLoadBalancer: Sendable {
    /// The nodes, among `nodes` (all listening to `topic`), to send one message to.
    func chooseNodes(_ nodes: [MeshNodeSpec], topic: String) -> [MeshNodeSpec]

    /// The node left the mesh: drop what is kept about it. The node calls this for every
    /// node that leaves; the default keeps nothing, so does nothing.
    func forget(_ node: NodeID)
}

extension TopicLoadBalancer {
    public func forget(_ node: NodeID) {}
}

/// Chooses which of a service's providers gets one call.
public protocol ServiceLoadBalancer: Sendable {
    /// The node, among `nodes` (all providing `service`), to call; `nil` when `nodes` is empty.
    func chooseNode(_ nodes: [MeshNodeSpec], service: String) -> MeshNodeSpec?

    /// Where the node to call stands in `nodes`; `nil` when `nodes` is empty. The default
    /// asks ``chooseNode(_:service:)``; a balancer that answers with the position spares
    /// each call a copy of the chosen node's spec.
    func chooseNodeIndex(_ nodes: [MeshNodeSpec], service: String) -> Int?

    /// The node left the mesh: drop what is kept about it. The node calls this for every
    /// node that leaves; the default keeps nothing, so does nothing.
    func forget(_ node: NodeID)
}

extension ServiceLoadBalancer {
    public func forget(_ node: NodeID) {}

    public func chooseNodeIndex(_ nodes: [MeshNodeSpec], service: String) -> Int? {
        guard let chosen = chooseNode(nodes, service: service) else { return nil }
        return nodes.firstIndex { $0.id == chosen.id }
    }
}

/// A strategy that picks one node of a group: least recently chosen, round-robin or random.
public protocol NodePicker: Sendable {
    /// One node of `nodes` (never empty).
    func pick(_ nodes: [MeshNodeSpec]) -> MeshNodeSpec

    /// The node left the mesh: drop what is kept about it (default: nothing is kept).
    func forget(_ node: NodeID)
}

extension NodePicker {
    public func forget(_ node: NodeID) {}
}

/// Picks the node chosen least recently; a node never chosen comes first, and ties
/// among new nodes are broken at random. This is rosy's default (`LeastRecentLoadBalancer`).
public final class LeastRecentPicker: NodePicker, TopicLoadBalancer, ServiceLoadBalancer {
    private struct State {
        var clock: UInt64 = 0
        /// When each node was last chosen: `times[slots[uuid]]` (hashing the UUID alone is
        /// cheaper than the whole node id, and it is unique on its own).
        var slots: [UUID: Int] = [:]
        var times: [UInt64] = []
        /// Slots of forgotten nodes, for new ones.
        var freeSlots: [Int] = []
        /// The node looked up last and its slot: calls to a service with one provider find
        /// it without hashing.
        var last: (uuid: UUID, slot: Int)?

        mutating func slot(of uuid: UUID) -> Int? {
            if let last, last.uuid == uuid { return last.slot }
            guard let slot = slots[uuid] else { return nil }
            last = (uuid, slot)
            return slot
        }

        /// When the node was last chosen; 0 if never.
        mutating func lastChosen(_ uuid: UUID) -> UInt64 {
            slot(of: uuid).map { times[$0] } ?? 0
        }

        mutating func choose(_ uuid: UUID) {
            clock += 1
            if let slot = slot(of: uuid) {
                times[slot] = clock
            } else if let slot = freeSlots.popLast() {
                slots[uuid] = slot
                last = (uuid, slot)
                times[slot] = clock
            } else {
                slots[uuid] = times.count
                last = (uuid, times.count)
                times.append(clock)
            }
        }

        mutating func forget(_ uuid: UUID) {
            guard let slot = slots.removeValue(forKey: uuid) else { return }
            freeSlots.append(slot)
            if last?.uuid == uuid { last = nil }
        }
    }
    private let state = Mutex(State())

    public init() {}

    public func pick(_ nodes: [MeshNodeSpec]) -> MeshNodeSpec {
        nodes[pickIndex(nodes)]
    }

    /// The position of the chosen node in `nodes` (which must not be empty).
    private func pickIndex(_ nodes: [MeshNodeSpec]) -> Int {
        state.withLock { state in
            var best = 0
            if nodes.count > 1 {
                // Never-chosen nodes rank 0 (first). Ties are broken at random, each tied node
                // equally likely: the k-th tie seen replaces the choice with probability 1/k.
                var bestTime = UInt64.max
                var ties = 0
                for index in nodes.indices {
                    let time = state.lastChosen(nodes[index].id.uuid)
                    if time < bestTime {
                        best = index
                        bestTime = time
                        ties = 1
                    } else if time == bestTime {
                        ties += 1
                        if Int.random(in: 0..<ties) == 0 { best = index }
                    }
                }
            }
            state.choose(nodes[best].id.uuid)
            return best
        }
    }

    /// Forgets a node that is gone, so the table does not grow as nodes come and go; its
    /// slot serves the next new node.
    public func forget(_ node: NodeID) {
        state.withLock { $0.forget(node.uuid) }
    }

    public func chooseNodes(_ nodes: [MeshNodeSpec], topic: String) -> [MeshNodeSpec] {
        nodes.isEmpty ? [] : [pick(nodes)]
    }

    public func chooseNode(_ nodes: [MeshNodeSpec], service: String) -> MeshNodeSpec? {
        nodes.isEmpty ? nil : pick(nodes)
    }

    public func chooseNodeIndex(_ nodes: [MeshNodeSpec], service: String) -> Int? {
        nodes.isEmpty ? nil : pickIndex(nodes)
    }
}

/// Picks the nodes in turn, ordered by UUID so the order is stable while the set changes.
public final class RoundRobinPicker: NodePicker, TopicLoadBalancer, ServiceLoadBalancer {
    private let counter = Atomic<Int>(0)

    public init() {}

    public func pick(_ nodes: [MeshNodeSpec]) -> MeshNodeSpec {
        if nodes.count == 1 { return nodes[0] }
        let sorted = nodes.sorted { $0.id.uuid.uuidString < $1.id.uuid.uuidString }
        let turn = counter.wrappingAdd(1, ordering: .relaxed).oldValue
        return sorted[Int(UInt(bitPattern: turn) % UInt(sorted.count))]
    }

    public func chooseNodes(_ nodes: [MeshNodeSpec], topic: String) -> [MeshNodeSpec] {
        nodes.isEmpty ? [] : [pick(nodes)]
    }

    public func chooseNode(_ nodes: [MeshNodeSpec], service: String) -> MeshNodeSpec? {
        nodes.isEmpty ? nil : pick(nodes)
    }

    /// Nothing is kept per node.
    public func forget(_ node: NodeID) {}
}

/// Picks a node at random.
public struct RandomPicker: NodePicker, TopicLoadBalancer, ServiceLoadBalancer {
    public init() {}

    public func pick(_ nodes: [MeshNodeSpec]) -> MeshNodeSpec {
        nodes.randomElement() ?? nodes[0]
    }

    public func chooseNodeIndex(_ nodes: [MeshNodeSpec], service: String) -> Int? {
        nodes.indices.randomElement()
    }

    public func chooseNodes(_ nodes: [MeshNodeSpec], topic: String) -> [MeshNodeSpec] {
        nodes.isEmpty ? [] : [pick(nodes)]
    }

    public func chooseNode(_ nodes: [MeshNodeSpec], service: String) -> MeshNodeSpec? {
        nodes.isEmpty ? nil : pick(nodes)
    }

    /// Nothing is kept per node.
    public func forget(_ node: NodeID) {}
}

/// Groups a topic's listeners by node name and sends each message to one node per group:
/// every kind of listener gets the message, and same-name copies share the load.
/// rosy's default topic balancer is this with ``LeastRecentPicker``.
public struct GroupByNodeNameBalancer: TopicLoadBalancer {
    public let picker: any NodePicker

    public init(picker: any NodePicker = LeastRecentPicker()) {
        self.picker = picker
    }

    public func chooseNodes(_ nodes: [MeshNodeSpec], topic: String) -> [MeshNodeSpec] {
        if nodes.count <= 1 { return nodes }
        var groups: [String: [MeshNodeSpec]] = [:]
        var order: [String] = []
        for node in nodes {
            if groups[node.id.name] == nil { order.append(node.id.name) }
            groups[node.id.name, default: []].append(node)
        }
        return order.sorted().compactMap { name in
            guard let group = groups[name] else { return nil }
            return group.count == 1 ? group[0] : picker.pick(group)
        }
    }

    public func forget(_ node: NodeID) {
        picker.forget(node)
    }
}

/// No balancing: every listener gets every message.
public struct EveryListenerBalancer: TopicLoadBalancer {
    public init() {}
    public func chooseNodes(_ nodes: [MeshNodeSpec], topic: String) -> [MeshNodeSpec] { nodes }
}

extension TopicLoadBalancer where Self == GroupByNodeNameBalancer {
    /// rosy's default: one node per node name, the least recently chosen.
    public static var leastRecentPerNodeName: GroupByNodeNameBalancer { GroupByNodeNameBalancer(picker: LeastRecentPicker()) }
    /// One node per node name, in turn.
    public static var roundRobinPerNodeName: GroupByNodeNameBalancer { GroupByNodeNameBalancer(picker: RoundRobinPicker()) }
    /// One node per node name, at random.
    public static var randomPerNodeName: GroupByNodeNameBalancer { GroupByNodeNameBalancer(picker: RandomPicker()) }
}

extension TopicLoadBalancer where Self == EveryListenerBalancer {
    /// No balancing: every listening node gets every message.
    public static var everyListener: EveryListenerBalancer { EveryListenerBalancer() }
}

extension ServiceLoadBalancer where Self == LeastRecentPicker {
    /// rosy's default: the provider chosen least recently.
    public static var leastRecent: LeastRecentPicker { LeastRecentPicker() }
}

extension ServiceLoadBalancer where Self == RoundRobinPicker {
    /// The providers in turn.
    public static var roundRobin: RoundRobinPicker { RoundRobinPicker() }
}

extension ServiceLoadBalancer where Self == RandomPicker {
    /// A provider at random.
    public static var random: RandomPicker { RandomPicker() }
}
