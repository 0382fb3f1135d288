import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Rosy
import RosyWire

/// The mesh side of the Foxglove bridge: one channel per topic, one service per rosy
/// service, the node listening to a topic only while some client subscribes to it.
///
/// ```swift
/// let node = try await Node.start(name: "rosy foxglove")
/// let bridge = FoxgloveBridge(node: node)
/// let server = try await FoxgloveServer.start(bridge: bridge, host: "127.0.0.1", port: 8765)
/// await bridge.run()   // until the task is cancelled
/// ```
///
/// Topics are what nodes listen to, so a channel appears when a first node listens to its
/// topic and goes when the last one stops (``Options/topics`` names a fixed set instead).
public final class FoxgloveBridge: Sendable {
    public struct Options: Sendable {
        /// The topics to offer, whether or not a node listens to them; nil offers every
        /// topic that some node of the mesh listens to, as they come and go.
        public var topics: [String]?
        /// How often the bridge looks at the mesh for topics and services that came or went.
        public var meshPollInterval: Duration = .milliseconds(250)
        /// Bytes that may wait in one client's connection before messages are dropped for it.
        public var clientQueueLimit = 4 * 1024 * 1024
        /// Bytes of control messages (advertise, status, responses) after which a client
        /// that reads nothing is disconnected.
        public var clientCloseLimit = 64 * 1024 * 1024
        /// How long a service call from a client may take.
        public var callTimeout: Duration = .seconds(10)
        /// Messages a client may publish ahead of the mesh before its next ones are dropped.
        public var clientPublishBacklog = 1024

        public init(topics: [String]? = nil) { self.topics = topics }
    }

    public let node: Node
    public let options: Options
    let logger: Logger
    private let state = NIOLockedValueBox(State())
    private let listening: ListeningTopics

    private struct State {
        var clients: [Int: FoxgloveClient] = [:]
        var nextClientNumber = 1
        var channels = NameTable()
        var services = NameTable()
        /// topic -> the subscriptions that want it
        var routes: [String: [(client: FoxgloveClient, subscriptionID: UInt32)]] = [:]
        var publishers: [Int: AsyncStream<TopicMessage>.Continuation] = [:]
    }

    public init(node: Node, options: Options = Options(), logger: Logger = Logger(label: "rosy.foxglove")) {
        self.node = node
        self.options = options
        self.logger = logger
        self.listening = ListeningTopics()
        if let topics = options.topics {
            refresh(topics: Set(topics), services: [])
        }
    }

    /// Watches the mesh and reports dropped messages until the task is cancelled.
    public func run() async {
        var sinceReport = Duration.zero
        while !Task.isCancelled {
            refreshFromMesh()
            if sinceReport >= .seconds(1) {
                reportDropped()
                sinceReport = .zero
            }
            try? await Task.sleep(for: options.meshPollInterval)
            sinceReport += options.meshPollInterval
        }
    }

    /// The topics offered now, sorted.
    public var offeredTopics: [String] { state.withLockedValue { $0.channels.present.values.sorted() } }

    /// The number of clients connected now.
    public var clientCount: Int { state.withLockedValue { $0.clients.count } }

    // MARK: Mesh

    func refreshFromMesh() {
        let others = node.meshNodes.filter { $0.id.uuid != node.id.uuid }
        let topics = options.topics.map(Set.init) ?? others.reduce(into: Set<String>()) { $0.formUnion($1.topics) }
        let services = others.reduce(into: Set<String>()) { $0.formUnion($1.services) }
        refresh(topics: topics, services: services)
    }

    private func refresh(topics: Set<String>, services: Set<String>) {
        let routesChanged = state.withLockedValue { state -> Bool in
            let channelChange = state.channels.update(to: topics)
            let serviceChange = state.services.update(to: services)
            guard !channelChange.isEmpty || !serviceChange.isEmpty else { return false }
            let clients = Array(state.clients.values)
            // Sent under the lock, so that a client that connects now sees one order of events.
            if !channelChange.removed.isEmpty {
                for client in clients {
                    client.forgetChannels(Set(channelChange.removed))
                    client.send(.unadvertise(channelChange.removed))
                }
            }
            if !channelChange.added.isEmpty {
                let channels = channelChange.added.map { AdvertisedChannel(id: $0.id, topic: $0.name) }
                for client in clients { client.send(.advertise(channels)) }
            }
            if !serviceChange.removed.isEmpty {
                for client in clients { client.send(.unadvertiseServices(serviceChange.removed)) }
            }
            if !serviceChange.added.isEmpty {
                let services = serviceChange.added.map { AdvertisedService(id: $0.id, name: $0.name) }
                for client in clients { client.send(.advertiseServices(services)) }
            }
            for (id, name) in channelChange.added { logger.info("channel \(id): topic '\(name)'") }
            for id in channelChange.removed { logger.info("channel \(id) gone") }
            if channelChange.removed.isEmpty { return false }
            Self.rebuildRoutes(&state)
            return true
        }
        if routesChanged { reconcileListening() }
    }

    private static func rebuildRoutes(_ state: inout State) {
        var routes: [String: [(client: FoxgloveClient, subscriptionID: UInt32)]] = [:]
        for client in state.clients.values {
            for (subscriptionID, channelID) in client.subscriptions {
                guard let topic = state.channels.present[channelID] else { continue }
                routes[topic, default: []].append((client, subscriptionID))
            }
        }
        state.routes = routes
    }

    /// The topics some client subscribes to.
    fileprivate var wantedTopics: Set<String> {
        state.withLockedValue { Set($0.routes.filter { !$0.value.isEmpty }.keys) }
    }

    private func reconcileListening() {
        Task { await listening.reconcile(self) }
    }

    /// A message from the mesh, to each subscription that wants it.
    fileprivate func deliver(_ message: TopicMessage) {
        let receiveTime = Self.nanosecondsNow()
        guard let routes = state.withLockedValue({ $0.routes[message.topic] }), !routes.isEmpty else { return }
        var payload = ByteBufferAllocator().buffer(capacity: 64)
        payload.writeString(MessageJSON.text(args: message.args, kwargs: message.kwargs))
        for route in routes {
            route.client.sendMessageData(subscriptionID: route.subscriptionID, receiveTime: receiveTime, payload: payload)
        }
    }

    private func reportDropped() {
        let clients = state.withLockedValue { Array($0.clients.values) }
        for client in clients {
            let (recent, total) = client.takeDroppedSinceReport()
            guard recent > 0 else { continue }
            logger.notice("client \(client.number) reads too slowly: \(recent) messages dropped for it in the last second, \(total) in all")
            client.send(.status(level: .warning, message:
                "rosy foxglove dropped \(recent) messages for this client in the last second: it reads more slowly than they arrive (\(total) in all)"))
        }
    }

    // MARK: Clients

    /// A client whose WebSocket is open: it gets serverInfo and what the mesh offers now.
    func connect(channel: any Channel) -> FoxgloveClient {
        let node = node, logger = logger
        let (client, publishes) = state.withLockedValue { state -> (FoxgloveClient, AsyncStream<TopicMessage>) in
            let client = FoxgloveClient(number: state.nextClientNumber, channel: channel,
                                        queueLimit: options.clientQueueLimit, closeLimit: options.clientCloseLimit)
            state.nextClientNumber += 1
            state.clients[client.number] = client
            let (stream, continuation) = AsyncStream.makeStream(
                of: TopicMessage.self, bufferingPolicy: .bufferingOldest(options.clientPublishBacklog))
            state.publishers[client.number] = continuation
            client.send(.serverInfo(name: "rosy foxglove (rosy-swift), domain '\(node.domainID)'",
                                    sessionID: node.id.uuid.uuidString,
                                    metadata: ["domainId": node.domainID, "node": node.id.name]))
            let channels = state.channels.present.sorted { $0.key < $1.key }.map { AdvertisedChannel(id: $0.key, topic: $0.value) }
            client.send(.advertise(channels))
            let services = state.services.present.sorted { $0.key < $1.key }.map { AdvertisedService(id: $0.key, name: $0.value) }
            if !services.isEmpty { client.send(.advertiseServices(services)) }
            return (client, stream)
        }
        logger.info("client \(client.number) connected from \(channel.remoteAddress.map { "\($0)" } ?? "?")")
        // A client's messages reach the mesh in the order it sent them.
        Task {
            for await message in publishes {
                do {
                    try await node.send(message.topic, args: message.args, kwargs: message.kwargs)
                } catch {
                    logger.warning("client \(client.number): sending to '\(message.topic)' failed: \(error)")
                    client.send(.status(level: .error, message: "sending to '\(message.topic)' failed: \(error)"))
                }
            }
        }
        return client
    }

    /// A client whose connection closed.
    func disconnect(_ client: FoxgloveClient) {
        let hadRoutes = state.withLockedValue { state -> Bool in
            guard state.clients.removeValue(forKey: client.number) != nil else { return false }
            state.publishers.removeValue(forKey: client.number)?.finish()
            let had = !client.subscriptions.isEmpty
            if had { Self.rebuildRoutes(&state) }
            return had
        }
        logger.info("client \(client.number) left; \(client.droppedCount) messages had been dropped for it")
        if hadRoutes { reconcileListening() }
    }

    /// A text frame from a client.
    func receive(text: ByteBuffer, from client: FoxgloveClient) {
        do {
            handle(try ClientMessage.parse(text: text), from: client)
        } catch {
            client.send(.status(level: .error, message: "rosy foxglove cannot read this message: \(error)"))
        }
    }

    /// A binary frame from a client.
    func receive(binary: ByteBuffer, from client: FoxgloveClient) {
        do {
            handle(try ClientMessage.parse(binary: binary), from: client)
        } catch {
            client.send(.status(level: .error, message: "rosy foxglove cannot read this message: \(error)"))
        }
    }

    private func handle(_ message: ClientMessage, from client: FoxgloveClient) {
        switch message {
        case .subscribe(let subscriptions):
            var changed = false
            for subscription in subscriptions {
                let known = state.withLockedValue { $0.channels.present[subscription.channelID] != nil }
                guard known else {
                    client.send(.status(level: .error, message: "subscribe: no channel \(subscription.channelID)"))
                    continue
                }
                if client.subscribe(id: subscription.id, channelID: subscription.channelID) {
                    changed = true
                } else {
                    client.send(.status(level: .error, message: "subscribe: subscription id \(subscription.id) is in use"))
                }
            }
            if changed { routesChanged() }
        case .unsubscribe(let ids):
            let unknown = client.unsubscribe(ids: ids)
            if !unknown.isEmpty {
                client.send(.status(level: .warning, message: "unsubscribe: no subscriptions \(unknown)"))
            }
            if unknown.count < ids.count { routesChanged() }
        case .advertise(let channels):
            for channel in channels {
                guard channel.encoding == FoxgloveProtocol.encoding else {
                    client.send(.status(level: .error, message:
                        "advertise: channel \(channel.id) ('\(channel.topic)') has encoding '\(channel.encoding)'; rosy foxglove reads only 'json'"))
                    continue
                }
                do {
                    try FrameEncoder.validateName(channel.topic)
                } catch {
                    client.send(.status(level: .error, message: "advertise: '\(channel.topic)' is not a topic name: \(error)"))
                    continue
                }
                client.advertise(channel)
            }
        case .unadvertise(let ids):
            let unknown = client.unadvertise(ids: ids)
            if !unknown.isEmpty {
                client.send(.status(level: .warning, message: "unadvertise: no client channels \(unknown)"))
            }
        case .messageData(let channelID, let payload):
            guard let channel = client.publishedChannel(channelID) else {
                client.send(.status(level: .error, message: "message on client channel \(channelID), which was not advertised"))
                return
            }
            let arguments: (args: [Value], kwargs: Kwargs)
            do {
                arguments = try MessageJSON.arguments(from: payload.readableBytesView)
            } catch {
                client.send(.status(level: .error, message: "a message for '\(channel.topic)' that is not JSON: \(error)"))
                return
            }
            let continuation = state.withLockedValue { $0.publishers[client.number] }
            if case .dropped = continuation?.yield(TopicMessage(topic: channel.topic, args: arguments.args, kwargs: arguments.kwargs)) {
                client.send(.status(level: .warning, message: "a message for '\(channel.topic)' was dropped: the client publishes faster than the mesh takes it"))
            }
        case .serviceCallRequest(let serviceID, let callID, let encoding, let payload):
            call(serviceID: serviceID, callID: callID, encoding: encoding, payload: payload, from: client)
        case .unsupported(let op):
            client.send(.status(level: .warning, message: "rosy foxglove does not offer '\(op)'"))
        }
    }

    private func routesChanged() {
        state.withLockedValue { Self.rebuildRoutes(&$0) }
        reconcileListening()
    }

    private func call(serviceID: UInt32, callID: UInt32, encoding: String, payload: ByteBuffer, from client: FoxgloveClient) {
        guard let service = state.withLockedValue({ $0.services.present[serviceID] }) else {
            client.send(.serviceCallFailure(serviceID: serviceID, callID: callID, message: "no service \(serviceID)"))
            return
        }
        guard encoding == FoxgloveProtocol.encoding else {
            client.send(.serviceCallFailure(serviceID: serviceID, callID: callID,
                                            message: "encoding '\(encoding)': rosy foxglove reads only 'json'"))
            return
        }
        let arguments: (args: [Value], kwargs: Kwargs)
        do {
            arguments = payload.readableBytes == 0 ? ([], [:]) : try MessageJSON.arguments(from: payload.readableBytesView)
        } catch {
            client.send(.serviceCallFailure(serviceID: serviceID, callID: callID, message: "the request is not JSON: \(error)"))
            return
        }
        let node = node, timeout = options.callTimeout
        Task {
            do {
                let result = try await node.call(service, args: arguments.args, kwargs: arguments.kwargs, timeout: timeout)
                client.sendBinary(ServerBinary.serviceCallResponse(
                    serviceID: serviceID, callID: callID, payload: result.jsonText, allocator: client.channel.allocator))
            } catch {
                client.send(.serviceCallFailure(serviceID: serviceID, callID: callID, message: "\(error)"))
            }
        }
    }

    static func nanosecondsNow() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    /// Starts and stops the node's listeners so that they follow the subscriptions, one
    /// change at a time.
    private actor ListeningTopics {
        private var topics: Set<String> = []

        func reconcile(_ bridge: FoxgloveBridge) async {
            while true {
                let wanted = bridge.wantedTopics
                if wanted == topics { return }
                for topic in wanted.subtracting(topics).sorted() {
                    do {
                        try await bridge.node.listen(topic) { [weak bridge] message in bridge?.deliver(message) }
                        bridge.logger.info("listening to '\(topic)'")
                    } catch {
                        bridge.logger.error("cannot listen to '\(topic)': \(error)")
                    }
                    topics.insert(topic)  // tried; not again until wanted anew
                }
                for topic in topics.subtracting(wanted).sorted() {
                    await bridge.node.stopListening(topic)
                    topics.remove(topic)
                    bridge.logger.info("stopped listening to '\(topic)'")
                }
            }
        }
    }
}
