import RosyDiscovery

/// Where calls to one service went last, kept on the node's event loop for the next call
/// made there: the providers as the mesh stood (``MeshTopology/version``) and the open
/// connection to each provider met so far. A run of calls to one service from the node's
/// executor then reaches its connection with no lock and no hashing; the balancer still
/// chooses each call's provider.
///
/// ```swift
/// let providers = route.providers(of: "echo", version: topology.version) { topology.providers(of: "echo") }
/// let connection = route.connection(at: chosen)  // nil: ask the link, then remember it
/// ```
struct CallRoute {
    private var service: String?
    private var version: UInt64 = 0
    private var providers: [MeshNodeSpec] = []
    private var connections: [ClientConnection?] = []

    /// The providers of `service`: the ones kept if the service and the mesh are as they
    /// were, else `lookUp()`'s (which become the kept ones, with no connection yet).
    mutating func providers(of service: String, version: UInt64, lookUp: () -> [MeshNodeSpec]) -> [MeshNodeSpec] {
        if self.service == service && self.version == version { return providers }
        self.service = service
        self.version = version
        providers = lookUp()
        connections = Array(repeating: nil, count: providers.count)
        return providers
    }

    /// The open connection kept for the provider at `index` (of the last providers given).
    func connection(at index: Int) -> ClientConnection? {
        guard index < connections.count, let connection = connections[index],
              !connection.isClosed.load(ordering: .relaxed)
        else { return nil }
        return connection
    }

    /// Keeps `connection` for the provider at `index` of the providers of `service` under
    /// `version`, if those are still the ones kept (another call may have changed them
    /// while this one waited for its connection).
    mutating func remember(_ connection: ClientConnection, at index: Int, of service: String, version: UInt64) {
        guard self.service == service, self.version == version, index < connections.count else { return }
        connections[index] = connection
    }
}
