/// A change in the mesh, as a discovery backend sees it.
public enum MeshEvent: Sendable, Equatable {
    /// A node appeared, or changed its topics, services or connection specs.
    case upserted(MeshNodeSpec)
    /// A node left (goodbye, death, or lost behind the network).
    case removed(NodeID)
}

/// Finds the other nodes of one domain and tells them about this one.
///
/// A node registers its own spec, updates it when its topics or services change, and
/// reads the mesh from ``events``. Backends: ``LocalDiscovery`` (no daemon, one host),
/// the Avahi backend (across a LAN), and ``CombinedDiscovery`` (both, each node once).
public protocol Discovery: AnyObject, Sendable {
    /// Publishes this node to the domain, then starts watching the mesh.
    func register(_ spec: MeshNodeSpec) async throws
    /// Republishes this node after its topics, services or connection specs changed.
    func update(_ spec: MeshNodeSpec) async throws
    /// Watches the mesh without publishing a node (for tools such as `rosy node list`).
    func browse() async throws
    /// Withdraws this node (a goodbye to peers) and stops watching.
    func unregister() async
    /// The mesh's other nodes and their changes. The first events describe every node
    /// already known; the stream ends after ``unregister()``.
    var events: AsyncStream<MeshEvent> { get }
}

extension Discovery {
    /// Backends that watch the mesh from the start need no separate step: nothing to do.
    public func browse() async throws {}
}
