import Foundation
import RosyDiscovery

/// `wait_for` through any `Discovery` backend: rosy-launch browses the domain (it publishes
/// no node of its own), keeps a view of the mesh from the backend's events, and answers the
/// supervisor's polls from that view.
///
/// ```swift
/// let readiness = DiscoveryMeshReadiness(discovery: makeDefaultDiscovery(domainID: "kitchen"))
/// readiness.isSatisfied(.topic("pose"))   // true once a node listens to "pose"
/// ```
public final class DiscoveryMeshReadiness: MeshReadiness, @unchecked Sendable {
    private let discovery: any Discovery
    private let lock = NSLock()
    private var nodes: [UUID: MeshNodeSpec] = [:]
    private var watcher: Task<Void, Never>?
    /// Why watching the mesh failed, if it did.
    private var failure: (any Error)?

    public init(discovery: any Discovery) {
        self.discovery = discovery
        watcher = Task { [weak self, discovery] in
            do {
                try await discovery.browse()
            } catch {
                self?.lock.withLock { self?.failure = error }
                return
            }
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
        case .upserted(let spec): nodes[spec.id.uuid] = spec
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

    public var problem: String? {
        lock.withLock { failure.map { "cannot watch the mesh: \($0)" } }
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
