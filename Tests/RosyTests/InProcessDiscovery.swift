import Foundation
import RosyDiscovery
import Synchronization

/// A mesh inside one test process: nodes given discoveries of the same mesh see each other.
final class InProcessMesh: Sendable {
    private let members = Mutex<[UUID: (spec: MeshNodeSpec, discovery: InProcessDiscovery)]>([:])

    func discovery() -> InProcessDiscovery { InProcessDiscovery(mesh: self) }

    fileprivate func publish(_ spec: MeshNodeSpec, from discovery: InProcessDiscovery, first: Bool) {
        let (others, existing) = members.withLock { members in
            members[spec.id.uuid] = (spec, discovery)
            let others = members.values.filter { $0.discovery !== discovery }
            return (others.map(\.discovery), others.map(\.spec))
        }
        if first { for spec in existing { discovery.deliver(.upserted(spec)) } }
        for other in others { other.deliver(.upserted(spec)) }
    }

    fileprivate func leave(_ discovery: InProcessDiscovery) {
        let (gone, others) = members.withLock { members in
            let gone = members.filter { $0.value.discovery === discovery }.map(\.value.spec.id)
            for id in gone { members.removeValue(forKey: id.uuid) }
            return (gone, members.values.map(\.discovery))
        }
        for id in gone { for other in others { other.deliver(.removed(id)) } }
    }
}

final class InProcessDiscovery: Discovery {
    let events: AsyncStream<MeshEvent>
    private let continuation: AsyncStream<MeshEvent>.Continuation
    private let mesh: InProcessMesh

    init(mesh: InProcessMesh) {
        self.mesh = mesh
        (events, continuation) = AsyncStream.makeStream(of: MeshEvent.self)
    }

    func register(_ spec: MeshNodeSpec) async throws { mesh.publish(spec, from: self, first: true) }
    func update(_ spec: MeshNodeSpec) async throws { mesh.publish(spec, from: self, first: false) }
    func unregister() async {
        mesh.leave(self)
        continuation.finish()
    }

    fileprivate func deliver(_ event: MeshEvent) { continuation.yield(event) }
}
