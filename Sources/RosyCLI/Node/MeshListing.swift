import Foundation
import Rosy
import RosyDiscovery

/// `rosy node list` output, as rosy prints it.
enum NodeListing {
    static func text(for nodes: [MeshNodeSpec], verbose: Bool) -> String {
        let sorted = nodes.sorted { ($0.id.name, $0.id.hostname, $0.id.uuid.uuidString.lowercased()) < ($1.id.name, $1.id.hostname, $1.id.uuid.uuidString.lowercased()) }
        var out = "\(sorted.count) nodes:\n"
        for node in sorted {
            out += "\n"
            out += display(node.id) + "\n"
            if verbose { out += "- UUID: \(node.id.uuid.uuidString.lowercased())\n" }
            if node.topics.isEmpty {
                out += "- topics: none\n"
            } else {
                out += "- topics:\n"
                for topic in node.topics.sorted() { out += "  - \(topic.pythonQuoted)\n" }
            }
            if node.services.isEmpty {
                out += "- services: none\n"
            } else {
                out += "- services:\n"
                for service in node.services.sorted() { out += "  - \(service.pythonQuoted)\n" }
            }
            if verbose {
                out += "- supported connection methods:\n"
                for spec in node.connectionSpecs { out += "  - \(pythonRepr(spec))\n" }
            }
        }
        return out
    }

    /// rosy's `NodeId.__str__`: `name@host (uuid4)`, the name quoted if it has a space.
    static func display(_ id: NodeID) -> String {
        let name = id.name.contains(" ") ? id.name.pythonQuoted : id.name
        return "\(name)@\(id.hostname) (\(id.uuid.uuidString.lowercased().prefix(4)))"
    }

    /// The dataclass repr Python prints for a connection spec.
    static func pythonRepr(_ spec: ConnectionSpec) -> String {
        switch spec {
        case .unix(let path, let host):
            return "UnixConnectionSpec(path=\(path.pythonQuoted), host=\(host.pythonQuoted))"
        case .ip(let host, let port, let family):
            let familyName = family == 10 ? "AF_INET6" : family == 2 ? "AF_INET" : "\(family)"
            return "IpConnectionSpec(host=\(host.pythonQuoted), port=\(port), family=<AddressFamily.\(familyName): \(family)>)"
        }
    }
}
