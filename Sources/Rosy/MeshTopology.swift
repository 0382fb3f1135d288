import Foundation
import RosyDiscovery
import Synchronization

/// The nodes this node knows (itself included), indexed by topic and by service.
/// Reads are one lock and a dictionary lookup: they sit on the send path.
final class MeshTopology: Sendable {
    private struct State {
        var nodes: [UUID: MeshNodeSpec] = [:]
        var listeners: [String: [MeshNodeSpec]] = [:]
        var providers: [String: [MeshNodeSpec]] = [:]
    }
    private let state = Mutex(State())
    private let changes = Atomic<UInt64>(0)

    /// Counts the changes to the nodes' topics and services: what was looked up under one
    /// version still holds while it stands.
    var version: UInt64 { changes.load(ordering: .acquiring) }

    /// Adds or replaces a node; returns the spec it replaced.
    @discardableResult
    func upsert(_ spec: MeshNodeSpec) -> MeshNodeSpec? {
        state.withLock { state in
            let old = state.nodes.updateValue(spec, forKey: spec.id.uuid)
            if old != spec { reindex(&state) }
            return old
        }
    }

    /// Removes a node; returns its last spec.
    @discardableResult
    func remove(_ uuid: UUID) -> MeshNodeSpec? {
        state.withLock { state in
            let old = state.nodes.removeValue(forKey: uuid)
            if old != nil { reindex(&state) }
            return old
        }
    }

    /// Every known node, ordered by name then UUID.
    var nodes: [MeshNodeSpec] {
        state.withLock { Self.ordered($0.nodes.values) }
    }

    func listeners(of topic: String) -> [MeshNodeSpec] {
        state.withLock { $0.listeners[topic] ?? [] }
    }

    func providers(of service: String) -> [MeshNodeSpec] {
        state.withLock { $0.providers[service] ?? [] }
    }

    private func reindex(_ state: inout State) {
        var listeners: [String: [MeshNodeSpec]] = [:]
        var providers: [String: [MeshNodeSpec]] = [:]
        for node in Self.ordered(state.nodes.values) {
            for topic in node.topics { listeners[topic, default: []].append(node) }
            for service in node.services { providers[service, default: []].append(node) }
        }
        state.listeners = listeners
        state.providers = providers
        changes.add(1, ordering: .releasing)
    }

    private static func ordered(_ nodes: some Sequence<MeshNodeSpec>) -> [MeshNodeSpec] {
        nodes.sorted { ($0.id.name, $0.id.uuid.uuidString) < ($1.id.name, $1.id.uuid.uuidString) }
    }
}
