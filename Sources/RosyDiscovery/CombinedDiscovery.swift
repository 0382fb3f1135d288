import Foundation
import Logging
import Synchronization

/// Several discovery backends as one: registers with each, and merges what they see so
/// that each node (by uuid) appears once, whichever backends report it.
///
/// A node stays in the mesh while any backend still reports it, except when a backend
/// that is *authoritative for removals* (the local registry, which sees a same-host node
/// die at once) reports it gone: then it leaves at once, and later reports of it from the
/// other backends (an mDNS cache that has not expired yet) are ignored. While an
/// authoritative backend reports a node, its spec is the one shown: the others' copies of
/// it may be older (an mDNS announcement of the spec before the node's last update).
///
/// ```swift
/// let discovery = CombinedDiscovery([
///     .init(LocalDiscovery(domainID: id), authoritativeForRemovals: true),
///     .init(AvahiDiscovery(domainID: id)),
/// ])
/// ```
public final class CombinedDiscovery: Discovery {
    /// One backend and how its removals count.
    public struct Backend: Sendable {
        public var discovery: any Discovery
        public var authoritativeForRemovals: Bool
        public init(_ discovery: any Discovery, authoritativeForRemovals: Bool = false) {
            self.discovery = discovery
            self.authoritativeForRemovals = authoritativeForRemovals
        }
    }

    public let backends: [Backend]
    public let events: AsyncStream<MeshEvent>
    private let continuation: AsyncStream<MeshEvent>.Continuation
    private let logger: Logger
    private let merger = Locked(Merger())
    private let pumps = Mutex<[Task<Void, Never>]>([])
    /// Set when ``unregister()`` begins: from then on nothing is reported (a backend's
    /// stream ending is then our own doing, not the nodes leaving).
    private let leaving = Locked(false)

    public init(_ backends: [Backend], logger: Logger = Logger(label: "rosy.discovery")) {
        self.backends = backends
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream(of: MeshEvent.self, bufferingPolicy: .unbounded)
        startPumps()
    }

    /// Registers with every backend. Fails only when every backend fails; the failures
    /// of the others are logged.
    public func register(_ spec: MeshNodeSpec) async throws {
        try await forEachBackend("register") { try await $0.register(spec) }
    }

    public func update(_ spec: MeshNodeSpec) async throws {
        try await forEachBackend("update") { try await $0.update(spec) }
    }

    public func browse() async throws {
        try await forEachBackend("browse") { try await $0.browse() }
    }

    public func unregister() async {
        leaving.withLock { $0 = true }
        await withTaskGroup(of: Void.self) { group in
            for backend in backends {
                group.addTask { await backend.discovery.unregister() }
            }
        }
        for pump in pumps.withLock({ $0 }) { await pump.value }
        continuation.finish()
    }

    private func forEachBackend(_ what: String, _ body: @escaping @Sendable (any Discovery) async throws -> Void) async throws {
        var errors: [any Error] = []
        for backend in backends {
            do {
                try await body(backend.discovery)
            } catch {
                logger.warning("\(type(of: backend.discovery)) could not \(what): \(error)")
                errors.append(error)
            }
        }
        if errors.count == backends.count, let first = errors.first { throw first }
    }

    private func startPumps() {
        let tasks = backends.enumerated().map { index, backend in
            Task { [continuation, merger, leaving] in
                for await event in backend.discovery.events {
                    let output = merger.withLock {
                        $0.apply(event, from: index, authoritative: backend.authoritativeForRemovals)
                    }
                    if let output, !leaving.withLock({ $0 }) { continuation.yield(output) }
                }
                // A backend that stopped by itself no longer vouches for anything.
                let gone = merger.withLock { $0.dropBackend(index) }
                guard !leaving.withLock({ $0 }) else { return }
                for id in gone { continuation.yield(.removed(id)) }
            }
        }
        pumps.withLock { $0 = tasks }
    }
}

/// The bookkeeping behind ``CombinedDiscovery``: which backends report each node, and
/// what was last shown of it.
struct Merger {
    private var reporters: [UUID: Set<Int>] = [:]
    private var shown: [UUID: MeshNodeSpec] = [:]
    /// Nodes an authoritative backend saw leave, and when: other backends' reports of them
    /// are stale. Kept for ``Merger/departedMemory``, far longer than any backend reports a
    /// node that is gone (an mDNS cache: one TTL), so that the set stays small in a mesh
    /// that never stops (the soak: a departure or two every second).
    private var departed: [UUID: ContinuousClock.Instant] = [:]
    private var nextPrune: ContinuousClock.Instant?
    static let departedMemory: Duration = .seconds(300)
    /// How many departed nodes are remembered (for tests).
    var departedCount: Int { departed.count }
    /// The backends that are authoritative.
    private var authorities: Set<Int> = []

    /// The event to pass on for `event` from backend `index`, if any.
    mutating func apply(_ event: MeshEvent, from index: Int, authoritative: Bool,
                        now: ContinuousClock.Instant = .now) -> MeshEvent? {
        if authoritative { authorities.insert(index) }
        if let nextPrune, now >= nextPrune { pruneDeparted(now: now) }
        switch event {
        case .upserted(let spec):
            let uuid = spec.id.uuid
            if departed[uuid] != nil && !authoritative { return nil }
            departed[uuid] = nil
            reporters[uuid, default: []].insert(index)
            // An authoritative backend reports this node: its spec is the current one.
            if !authoritative, reporters[uuid]?.isDisjoint(with: authorities) == false { return nil }
            guard shown[uuid] != spec else { return nil }
            shown[uuid] = spec
            return .upserted(spec)
        case .removed(let id):
            let uuid = id.uuid
            guard reporters[uuid]?.remove(index) != nil else { return nil }
            if authoritative {
                departed[uuid] = now
                if nextPrune == nil { nextPrune = now + Self.departedMemory }
                reporters[uuid] = nil
            }
            guard reporters[uuid]?.isEmpty ?? true else { return nil }
            reporters[uuid] = nil
            guard let spec = shown.removeValue(forKey: uuid) else { return nil }
            return .removed(spec.id)
        }
    }

    /// Forgets the nodes that departed more than ``departedMemory`` ago.
    private mutating func pruneDeparted(now: ContinuousClock.Instant) {
        departed = departed.filter { now - $0.value < Self.departedMemory }
        // At most one pass over them per half memory: each is kept 300 to 450 s.
        nextPrune = departed.isEmpty ? nil : now + Self.departedMemory / 2
    }

    /// Forgets backend `index`; returns the nodes no backend reports any more.
    mutating func dropBackend(_ index: Int) -> [NodeID] {
        var gone: [NodeID] = []
        for (uuid, var set) in reporters {
            set.remove(index)
            if set.isEmpty {
                reporters[uuid] = nil
                if let spec = shown.removeValue(forKey: uuid) { gone.append(spec.id) }
            } else {
                reporters[uuid] = set
            }
        }
        return gone
    }
}
