import OrderedCollections
import Foundation
import Logging
import NIOCore
import NIOPosix
import RosyDiscovery
import RosyWire
import Synchronization

/// A node of a rosy mesh: it sends and listens to topics, calls and provides services.
///
/// Several nodes may share a name; topic messages and calls are then balanced among them.
///
/// ```swift
/// try await Node.withNode(name: "greeter") { node in
///     try await node.listen("some-topic") { message in print(message.args) }
///     try await node.send("some-topic", "hello", kwargs: ["name": "world"])
/// }
/// ```
///
/// For a long-lived program, ``start(name:domainID:options:)`` and ``stop()``, or
/// ``forever()`` to run until SIGINT or SIGTERM.
public final class Node: Sendable {
    /// Who this node is in the mesh: name, host and a unique id.
    public let id: NodeID
    /// The domain: only nodes of the same domain see each other.
    public let domainID: String
    /// The data codec (both ends of a connection must agree).
    public let codec: any MessageCodec

    let options: NodeOptions
    let logger: Logger
    let topology = MeshTopology()
    let dispatcher: InboundDispatcher
    private let servers: NodeServers
    private let discovery: any Discovery
    private let links = Mutex(Links())
    private let lifecycle = Mutex(Lifecycle())
    let allocator = ByteBufferAllocator()
    /// Whether this node offers shared-memory lanes to peers on its host (``SharedMemoryLane``).
    let sendsThroughLanes: Bool

    /// The links to peers by node UUID, and the last one looked up: a stream of messages to one
    /// peer then skips hashing the UUID per message.
    private struct Links {
        var byID: [UUID: PeerLink] = [:]
        var last: PeerLink?

        mutating func removeValue(forKey uuid: UUID) -> PeerLink? {
            if last?.nodeID.uuid == uuid { last = nil }
            return byID.removeValue(forKey: uuid)
        }
    }

    private struct Lifecycle {
        var connectionSpecs: [ConnectionSpec] = []
        var started = false
        var stopped = false
        var eventsTask: Task<Void, Never>?
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
        var stopFinished = false
        var stopFinishedWaiters: [CheckedContinuation<Void, Never>] = []
        // Publishing the spec to discovery, serialized and coalesced.
        var requestedVersion: UInt64 = 0
        var publishedVersion: UInt64 = 0
        var publishing = false
        var publishWaiters: [(version: UInt64, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private init(name: String, domainID: String, options: NodeOptions, discovery: any Discovery) {
        self.id = NodeID(name: name, hostname: Host.name)
        self.domainID = domainID
        self.options = options
        self.sendsThroughLanes = SharedMemoryLane.isEnabled(options)
        self.logger = options.logger
        self.codec = options.codec ?? Node.defaultCodec
        self.dispatcher = InboundDispatcher(codec: codec, logger: options.logger)
        self.servers = NodeServers(dispatcher: dispatcher, options: options)
        self.discovery = discovery
        self.homeLoop = options.eventLoopGroup.next()
        self.homeExecutor = EventLoopTaskExecutor(homeLoop)
        self.callRoute = .makeBoxSendingValue(CallRoute(), eventLoop: homeLoop)
    }

    /// The route of the last service call made on the home loop (``CallRoute``).
    let callRoute: NIOLoopBoundBox<CallRoute>

    /// The event loop of this node's connections to its peers.
    let homeLoop: any EventLoop

    /// The executor of the event loop that carries this node's connections to its peers.
    ///
    /// A task that sends or calls at a high rate runs fastest there, as Python rosy's code
    /// runs on its node's asyncio loop: its messages and requests are written, and its
    /// responses resumed, without waking another thread. (From any other task, each batch
    /// of messages and each response costs a thread wake-up.) Code that computes for long
    /// should not run there: it holds up this node's traffic meanwhile.
    ///
    /// ```swift
    /// try await withTaskExecutorPreference(node.taskExecutor) {
    ///     for pose in poses { try await node.send("pose", pose) }
    /// }
    /// ```
    public var taskExecutor: any TaskExecutor { homeExecutor }
    let homeExecutor: EventLoopTaskExecutor

    /// The event loop behind ``taskExecutor``. A task there that waits on the loop's own
    /// timers wakes this one thread only (`Task.sleep` wakes a timer thread, which then
    /// wakes the loop), as a Python rosy node sleeps on its asyncio loop: a periodic
    /// publisher's messages then leave with no other thread competing for a core.
    ///
    /// ```swift
    /// try await withTaskExecutorPreference(node.taskExecutor) {
    ///     var next = NIODeadline.now()
    ///     while true {
    ///         next = next + .milliseconds(10)
    ///         try await node.eventLoop.scheduleTask(deadline: next) {}.futureResult.get()
    ///         try await node.send("pose", readPose())
    ///     }
    /// }
    /// ```
    public var eventLoop: any EventLoop { homeLoop }

    /// Starts a node: opens its servers and joins the mesh of `domainID`
    /// (else `ROSY_DOMAIN_ID`, else `default`).
    ///
    /// ```swift
    /// let node = try await Node.start(name: "planner")
    /// defer { Task { await node.stop() } }
    /// ```
    public static func start(name: String, domainID: String? = nil, options: NodeOptions = NodeOptions()) async throws -> Node {
        try FrameEncoder.validateName(name)
        let domainID = Host.domainID(domainID)
        let discovery = try options.discovery ?? Node.defaultDiscovery(domainID: domainID)
        let node = Node(name: name, domainID: domainID, options: options, discovery: discovery)
        do {
            try await node.startUp()
        } catch {
            await node.stop()
            throw error
        }
        return node
    }

    /// Starts a node from a program's `--name` and `--domain-id` arguments (as `rosy launch` passes them).
    ///
    /// ```swift
    /// let node = try await Node.start(arguments: NodeArguments(defaultName: "planner"))
    /// ```
    public static func start(arguments: NodeArguments, options: NodeOptions = NodeOptions()) async throws -> Node {
        try await start(name: arguments.name, domainID: arguments.domainID, options: options)
    }

    /// Runs `body` with a started node, then stops the node (also when `body` throws).
    public static func withNode<Result: Sendable>(
        name: String, domainID: String? = nil, options: NodeOptions = NodeOptions(),
        _ body: (Node) async throws -> Result
    ) async throws -> Result {
        let node = try await start(name: name, domainID: domainID, options: options)
        do {
            let result = try await body(node)
            await node.stop()
            return result
        } catch {
            await node.stop()
            throw error
        }
    }

    private func startUp() async throws {
        let specs = try await servers.start(uuid: id.uuid)
        let events = discovery.events
        let task = Task { [weak self] in
            for await event in events {
                guard let self else { return }
                self.handle(event)
            }
        }
        lifecycle.withLock {
            $0.connectionSpecs = specs
            $0.started = true
            $0.eventsTask = task
        }
        let spec = currentSpec()
        topology.upsert(spec)
        try await discovery.register(spec)
        logger.debug("Started node \(id) in domain \(domainID) with \(specs)")
    }

    /// Leaves the mesh: withdraws from discovery, lets service calls in progress answer and
    /// sends what is still queued (within two seconds), closes every connection and removes
    /// the Unix socket.
    public func stop() async {
        let first = lifecycle.withLock { state -> Bool in
            defer { state.stopped = true }
            return !state.stopped
        }
        if first {
            await shutDown()
            let waiters = lifecycle.withLock { state in
                state.stopFinished = true
                defer { state.stopFinishedWaiters = [] }
                return state.stopFinishedWaiters
            }
            for waiter in waiters { waiter.resume() }
        } else {
            // Another call is stopping the node: return when it is done.
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let done = lifecycle.withLock { state -> Bool in
                    if state.stopFinished { return true }
                    state.stopFinishedWaiters.append(continuation)
                    return false
                }
                if done { continuation.resume() }
            }
        }
    }

    private func shutDown() async {
        let (wasStarted, task, waiters) = lifecycle.withLock { state -> (Bool, Task<Void, Never>?, [CheckedContinuation<Void, Never>]) in
            defer { state.stopWaiters = [] }
            return (state.started, state.eventsTask, state.stopWaiters)
        }
        for waiter in waiters { waiter.resume() }
        guard wasStarted else {
            await servers.stop()
            return
        }
        await discovery.unregister()
        task?.cancel()
        let peers = links.withLock { links in
            defer { links = Links() }
            return Array(links.byID.values)
        }
        let deadline = NIODeadline.now() + .seconds(2)
        // Calls already being handled finish and answer (drain), within the same two seconds.
        while dispatcher.requestsInFlight.load(ordering: .relaxed) > 0 && NIODeadline.now() < deadline {
            try? await Task.sleep(nanoseconds: 2_000_000)
        }
        await withTaskGroup(of: Void.self) { group in
            for link in peers { group.addTask { await link.flush(until: deadline) } }
        }
        for link in peers { link.close() }
        await servers.stop()
        logger.debug("Stopped node \(id)")
    }

    /// Waits until SIGINT or SIGTERM arrives (then stops the node) or the node is stopped.
    ///
    /// ```swift
    /// try await node.addService("multiply") { request in ... }
    /// print("Started service...")
    /// await node.forever()
    /// ```
    public func forever() async {
        let signals = SignalWaiter(signals: [SIGINT, SIGTERM]) { [weak self] in
            Task { await self?.stop() }
        }
        defer { signals.cancel() }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let stopped = lifecycle.withLock { state -> Bool in
                if state.stopped { return true }
                state.stopWaiters.append(continuation)
                return false
            }
            if stopped { continuation.resume() }
        }
        // Returns once the stop is complete, whoever started it.
        await stop()
    }

    /// Every node this node knows in its domain, itself included.
    public var meshNodes: [MeshNodeSpec] { topology.nodes }

    // MARK: Mesh

    private func handle(_ event: MeshEvent) {
        switch event {
        case .upserted(let spec):
            guard spec.id.uuid != id.uuid else { return }
            topology.upsert(spec)
            links.withLock { $0.byID[spec.id.uuid] }?.update(spec)
        case .removed(let nodeID):
            guard nodeID.uuid != id.uuid else { return }
            topology.remove(nodeID.uuid)
            options.topicLoadBalancer.forget(nodeID)
            options.serviceLoadBalancer.forget(nodeID)
            links.withLock { $0.removeValue(forKey: nodeID.uuid) }?.close()
        }
    }

    /// The link to the node at `index` of `nodes`, created on first use (the node's spec is
    /// copied only then: a spec holds many references).
    func link(toNodeAt index: Int, of nodes: [MeshNodeSpec]) -> PeerLink {
        existingLink(to: nodes[index].id.uuid) ?? createLink(to: nodes[index])
    }

    private func existingLink(to uuid: UUID) -> PeerLink? {
        links.withLock { links -> PeerLink? in
            if let last = links.last, last.nodeID.uuid == uuid { return last }
            let link = links.byID[uuid]
            if link != nil { links.last = link }
            return link
        }
    }

    private func createLink(to spec: MeshNodeSpec) -> PeerLink {
        let created = PeerLink(spec: spec, settings: PeerLink.Settings(
            group: homeLoop, capacity: max(1, options.outboxCapacity), byteCapacity: max(1, options.outboxByteCapacity),
            timeToLive: options.outboxTimeToLive, maximumMessageSize: options.maxFrameSize,
            logger: logger, homeExecutor: homeExecutor, laneCodec: sendsThroughLanes ? codec : nil))
        return links.withLock { links in
            let link = links.byID[spec.id.uuid] ?? created
            links.byID[spec.id.uuid] = link
            links.last = link
            return link
        }
    }

    /// About how many bytes a frame with these arguments takes (at least as many, for
    /// strings and bytes).
    func estimatedFrameSize(name: String, args: [Value], kwargs: Kwargs) -> Int {
        var estimate = 16 + name.utf8.count
        for arg in args { estimate += Self.estimatedSize(arg) }
        for (key, value) in kwargs { estimate += 8 + key.utf8.count + Self.estimatedSize(value) }
        return estimate
    }

    private static func estimatedSize(_ value: Value) -> Int {
        switch value {
        case .bytes(let bytes): return 24 + bytes.count
        case .string(let string): return 24 + string.utf8.count
        case .list(let items), .tuple(let items):
            return items.count <= 16 ? items.reduce(24) { $0 + estimatedSize($1) } : 24 + 16 * items.count
        default: return 24
        }
    }

    /// The bytes of the str and bytes payloads of `threshold` bytes or more among these
    /// arguments, as far as ``estimatedFrameSize(name:args:kwargs:)`` looks (what a codec that
    /// leaves out large payloads leaves out of a ``GatheredFrame``).
    func largePayloadBytes(args: [Value], kwargs: Kwargs, threshold: Int) -> Int {
        func bytes(_ value: Value) -> Int {
            switch value {
            case .bytes(let bytes): return bytes.count >= threshold ? bytes.count : 0
            case .string(let string):
                let count = string.utf8.count
                return count >= threshold ? count : 0
            case .list(let items), .tuple(let items): return items.count <= 16 ? items.reduce(0) { $0 + bytes($1) } : 0
            default: return 0
            }
        }
        return args.reduce(0) { $0 + bytes($1) } + kwargs.values.reduce(0) { $0 + bytes($1) }
    }

    private func currentSpec() -> MeshNodeSpec {
        MeshNodeSpec(
            id: id, connectionSpecs: lifecycle.withLock { $0.connectionSpecs },
            topics: dispatcher.topics, services: dispatcher.services)
    }

    /// Tells the mesh (and this node's own view of it) about changed topics or services.
    /// Returns once a spec at least this new is published.
    func publish() async {
        topology.upsert(currentSpec())
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let start = lifecycle.withLock { state -> Bool in
                state.requestedVersion += 1
                state.publishWaiters.append((state.requestedVersion, continuation))
                if state.publishing { return false }
                state.publishing = true
                return true
            }
            if start { Task { await self.runPublisher() } }
        }
    }

    private func runPublisher() async {
        while true {
            let target = lifecycle.withLock { state -> UInt64? in
                guard state.publishedVersion < state.requestedVersion else {
                    state.publishing = false
                    return nil
                }
                return state.requestedVersion
            }
            guard let target else { return }
            let spec = currentSpec()
            let stopped = lifecycle.withLock { $0.stopped }
            if !stopped {
                do {
                    try await discovery.update(spec)
                } catch {
                    logger.error("Could not publish node \(id) to discovery: \(error)")
                }
            }
            let ready = lifecycle.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.publishedVersion = target
                let ready = state.publishWaiters.filter { $0.version <= target }.map(\.continuation)
                state.publishWaiters.removeAll { $0.version <= target }
                return ready
            }
            for waiter in ready { waiter.resume() }
        }
    }
}

extension Duration {
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
