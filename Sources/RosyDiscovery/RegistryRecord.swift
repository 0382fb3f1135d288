import Foundation

/// A node's entry in the local registry: its ``MeshNodeSpec`` as JSON.
///
/// The format is this package's own (Python nodes never read it); `version` lets a later
/// format be told apart. Sets are written sorted so that equal specs give equal files.
struct RegistryRecord: Codable, Equatable {
    struct Connection: Codable, Equatable {
        var kind: String          // "unix" or "ip"
        var host: String
        var path: String?
        var port: Int?
        var family: Int?
    }

    var version: Int
    var name: String
    var hostname: String
    var uuid: String
    var connections: [Connection]
    var topics: [String]
    var services: [String]

    static let currentVersion = 1

    init(_ spec: MeshNodeSpec) {
        version = Self.currentVersion
        name = spec.id.name
        hostname = spec.id.hostname
        uuid = spec.id.uuid.uuidString.lowercased()
        connections = spec.connectionSpecs.map { connection in
            switch connection {
            case .unix(let path, let host):
                return Connection(kind: "unix", host: host, path: path, port: nil, family: nil)
            case .ip(let host, let port, let family):
                return Connection(kind: "ip", host: host, path: nil, port: port, family: family)
            }
        }
        topics = spec.topics.sorted()
        services = spec.services.sorted()
    }

    /// The spec this record describes; throws on a record this version cannot read.
    func spec() throws -> MeshNodeSpec {
        guard version == Self.currentVersion else {
            throw RegistryError("registry entry has format version \(version), expected \(Self.currentVersion)")
        }
        guard let uuid = UUID(uuidString: uuid) else {
            throw RegistryError("registry entry has an invalid uuid \(self.uuid.debugDescription)")
        }
        let specs = try connections.map { connection -> ConnectionSpec in
            switch connection.kind {
            case "unix":
                guard let path = connection.path else { throw RegistryError("unix connection without a path") }
                return .unix(path: path, host: connection.host)
            case "ip":
                guard let port = connection.port, let family = connection.family else {
                    throw RegistryError("ip connection without port or family")
                }
                return .ip(host: connection.host, port: port, family: family)
            default:
                throw RegistryError("unknown connection kind \(connection.kind.debugDescription)")
            }
        }
        return MeshNodeSpec(
            id: NodeID(name: name, hostname: hostname, uuid: uuid),
            connectionSpecs: specs, topics: Set(topics), services: Set(services))
    }

    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }

    static func decode(_ data: Data) throws -> MeshNodeSpec {
        try JSONDecoder().decode(RegistryRecord.self, from: data).spec()
    }
}

/// A local registry problem: a file that cannot be written, or an entry that cannot be read.
public struct RegistryError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
