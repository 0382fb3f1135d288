import Foundation
import RosyDiscovery

/// `wait_for` through any `Discovery` backend: rosy-launch joins the domain as a node with no
/// topics, services or connections (so no peer ever connects to it), keeps a view of the
/// mesh from the backend's events, and answers the supervisor's polls from that view.
///
/// ```swift
/// RosyLaunchCommand.meshReadiness = { domain in
///     DiscoveryMeshReadiness(discovery: try CombinedDiscovery(domainID: domain ?? "default"),
///                            hostName: Posix.hostName())
/// }
/// ```
public final class DiscoveryMeshReadiness: MeshReadiness, @unchecked Sendable {
    private let discovery: any Discovery
    private let lock = NSLock()
    private var nodes: [UUID: MeshNodeSpec] = [:]
    private var watcher: Task<Void, Never>?
    private let ownID: NodeID

    public init(discovery: any Discovery, hostName: String) {
        self.discovery = discovery
        self.ownID = NodeID(name: "rosy-launch", hostname: hostName)
        let spec = MeshNodeSpec(id: ownID, connectionSpecs: [])
        watcher = Task { [weak self, discovery] in
            do { try await discovery.register(spec) } catch { return }
            for await event in discovery.events {
                guard let self else { return }
                self.apply(event)
            }
        }
    }

    func apply(_ event: MeshEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .upserted(let spec) where spec.id.uuid != ownID.uuid: nodes[spec.id.uuid] = spec
        case .upserted: break
        case .removed(let id): nodes[id.uuid] = nil
        }
    }

    public func isSatisfied(_ condition: MeshCondition) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        switch condition {
        case .node(let name): return nodes.values.contains { $0.id.name == name }
        case .topic(let topic): return nodes.values.contains { $0.topics.contains(topic) }
        case .service(let service): return nodes.values.contains { $0.services.contains(service) }
        }
    }

    public func close() {
        watcher?.cancel()
        let discovery = self.discovery
        let done = DispatchSemaphore(value: 0)
        Task {
            await discovery.unregister()
            done.signal()
        }
        _ = done.wait(timeout: .now() + 2)
    }
}
