import Foundation

/// Who a node is: its name (shared by nodes that balance load), its host and a unique id.
/// Mirrors `rosy.specs.NodeId`.
public struct NodeID: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var hostname: String
    public var uuid: UUID

    public init(name: String, hostname: String, uuid: UUID = UUID()) {
        self.name = name
        self.hostname = hostname
        self.uuid = uuid
    }

    public var description: String { "\(name)@\(hostname) (\(uuid.uuidString.lowercased()))" }
}

/// How to reach a node. Mirrors `rosy.specs.UnixConnectionSpec` and `IpConnectionSpec`.
public enum ConnectionSpec: Hashable, Sendable, CustomStringConvertible {
    /// A Unix socket at `path` on the machine named `host`.
    case unix(path: String, host: String)
    /// A TCP server at `host:port`; `family` is 2 (IPv4) or 10 (IPv6) as Python's `AddressFamily`.
    case ip(host: String, port: Int, family: Int)

    public var description: String {
        switch self {
        case .unix(let path, let host): return "unix:\(path)@\(host)"
        case .ip(let host, let port, let family): return "tcp:\(host):\(port)" + (family == 10 ? " (IPv6)" : "")
        }
    }
}

/// What the mesh knows of one node: mirrors `rosy.specs.MeshNodeSpec`.
public struct MeshNodeSpec: Hashable, Sendable {
    public var id: NodeID
    public var connectionSpecs: [ConnectionSpec]
    public var topics: Set<String>
    public var services: Set<String>

    public init(id: NodeID, connectionSpecs: [ConnectionSpec], topics: Set<String> = [], services: Set<String> = []) {
        self.id = id
        self.connectionSpecs = connectionSpecs
        self.topics = topics
        self.services = services
    }
}
