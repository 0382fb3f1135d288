import Foundation
import Logging
import RosyDiscovery
import Synchronization

/// The nodes of the mesh, for `node list`, `topic list` and `service list`.
enum MeshSnapshot {
    /// Watches the mesh for `seconds` without joining it (as rosy's list commands) and
    /// returns every node seen and still there.
    static func discover(common: CommonOptions, seconds: Double) async throws -> [MeshNodeSpec] {
        var logger = Logger(label: "rosy.discovery")
        logger.logLevel = common.logLevel
        let discovery = makeDefaultDiscovery(domainID: common.resolvedDomainID, logger: logger)
        let nodes = Mutex<[UUID: MeshNodeSpec]>([:])
        let events = discovery.events
        let watcher = Task {
            for await event in events {
                switch event {
                case .upserted(let spec): nodes.withLock { $0[spec.id.uuid] = spec }
                case .removed(let id): nodes.withLock { $0[id.uuid] = nil }
                }
            }
        }
        try await discovery.browse()
        try? await Task.sleep(for: .seconds(seconds))
        await discovery.unregister()
        watcher.cancel()
        return nodes.withLock { Array($0.values) }
    }
}
