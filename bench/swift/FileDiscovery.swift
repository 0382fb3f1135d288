import Foundation
import NIOConcurrencyHelpers
import RosyDiscovery

/// A stand-in discovery for the benchmark: each node writes its spec to a file in a shared
/// directory and polls the directory every 50 ms. Only for `rosy-bench --discovery files`,
/// used while the library's default discovery is not available; discovery is outside every
/// measured path (it only lets the two nodes find each other before the cases start).
final class FileDiscovery: Discovery {
    let events: AsyncStream<MeshEvent>
    private let continuation: AsyncStream<MeshEvent>.Continuation
    private let directory: URL
    private let state = NIOLockedValueBox(State())

    private struct State {
        var own: MeshNodeSpec?
        var known: [String: MeshNodeSpec] = [:]
        var poller: Task<Void, Never>?
    }

    init(domainID: String) {
        directory = URL(fileURLWithPath: NSTemporaryDirectory())
            .appendingPathComponent("rosy-bench-registry-\(domainID)")
        (events, continuation) = AsyncStream.makeStream(of: MeshEvent.self)
    }

    func register(_ spec: MeshNodeSpec) async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try write(spec)
        let poller = Task { [weak self] in
            while !Task.isCancelled {
                self?.poll()
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        state.withLockedValue { $0.poller = poller }
    }

    func update(_ spec: MeshNodeSpec) async throws { try write(spec) }

    func unregister() async {
        let (own, poller) = state.withLockedValue { ($0.own, $0.poller) }
        poller?.cancel()
        if let own { try? FileManager.default.removeItem(at: file(for: own)) }
        _ = rmdir(directory.path)  // only succeeds once the last node has left
        continuation.finish()
    }

    private func file(for spec: MeshNodeSpec) -> URL {
        directory.appendingPathComponent(spec.id.uuid.uuidString + ".spec")
    }

    private func write(_ spec: MeshNodeSpec) throws {
        state.withLockedValue { $0.own = spec }
        var lines = ["node\t\(spec.id.name)\t\(spec.id.hostname)\t\(spec.id.uuid.uuidString)"]
        for connection in spec.connectionSpecs {
            switch connection {
            case .unix(let path, let host): lines.append("unix\t\(path)\t\(host)")
            case .ip(let host, let port, let family): lines.append("ip\t\(host)\t\(port)\t\(family)")
            }
        }
        lines += spec.topics.sorted().map { "topic\t\($0)" }
        lines += spec.services.sorted().map { "service\t\($0)" }
        let temporary = directory.appendingPathComponent(".\(spec.id.uuid.uuidString).tmp")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: temporary)
        _ = rename(temporary.path, file(for: spec).path)
    }

    private func poll() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var seen: [String: MeshNodeSpec] = [:]
        for name in names where name.hasSuffix(".spec") {
            guard let text = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8),
                  let spec = Self.parse(text)
            else { continue }
            seen[name] = spec
        }
        let (own, known) = state.withLockedValue { state in
            defer { state.known = seen }
            return (state.own, state.known)
        }
        for (name, spec) in seen where spec.id != own?.id && known[name] != spec {
            continuation.yield(.upserted(spec))
        }
        for (name, spec) in known where seen[name] == nil && spec.id != own?.id {
            continuation.yield(.removed(spec.id))
        }
    }

    private static func parse(_ text: String) -> MeshNodeSpec? {
        var id: NodeID?
        var connections: [ConnectionSpec] = []
        var topics = Set<String>(), services = Set<String>()
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            switch fields.first {
            case "node" where fields.count == 4:
                guard let uuid = UUID(uuidString: fields[3]) else { return nil }
                id = NodeID(name: fields[1], hostname: fields[2], uuid: uuid)
            case "unix" where fields.count == 3:
                connections.append(.unix(path: fields[1], host: fields[2]))
            case "ip" where fields.count == 4:
                guard let port = Int(fields[2]), let family = Int(fields[3]) else { return nil }
                connections.append(.ip(host: fields[1], port: port, family: family))
            case "topic" where fields.count == 2: topics.insert(fields[1])
            case "service" where fields.count == 2: services.insert(fields[1])
            default: return nil
            }
        }
        guard let id else { return nil }
        return MeshNodeSpec(id: id, connectionSpecs: connections, topics: topics, services: services)
    }
}
