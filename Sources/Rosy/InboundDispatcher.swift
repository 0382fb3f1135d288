import OrderedCollections
import Logging
import NIOCore
import RosyWire
import Synchronization

/// A topic listener's callback. It runs where the node delivers (the event loop that read
/// the message), with no executor hop per message (`nonisolated(nonsending)`); a listener
/// isolated to an actor hops there as usual.
public typealias TopicListener = nonisolated(nonsending) @Sendable (TopicMessage) async throws -> Void
/// A service's handler: returns the result, or throws to send an error response.
public typealias ServiceHandler = @Sendable (ServiceRequest) async throws -> Value
/// A service's handler that answers without awaiting: it runs as the request is read, on
/// the connection's event loop, with no task per call (see ``Node/addService(_:_:)-(_,ImmediateServiceHandler)``).
public typealias ImmediateServiceHandler = @Sendable (ServiceRequest) throws -> Value

/// A service's handler in a box (no reabstraction thunk per call), and how it runs.
final class ServiceEntry: Sendable {
    enum Answer: Sendable {
        /// Called as the request is read; the response joins the others of the same read.
        case immediate(ImmediateServiceHandler)
        /// Called in a task (shared until a handler suspends, ``AwaitingRequests``); the
        /// response is written when the handler returns.
        case concurrent(ServiceHandler)
    }
    let answer: Answer
    init(_ answer: Answer) { self.answer = answer }
}

/// A topic listener in a box: a closure kept in a class stays at its own abstraction, so
/// calling it costs no reabstraction thunks (two extra async frames per message otherwise).
final class TopicListenerBox: Sendable {
    let call: TopicListener
    init(_ call: @escaping TopicListener) { self.call = call }
}

/// Hands what peers send to this node's listeners and services.
final class InboundDispatcher: Sendable {
    private struct Handlers {
        var listeners: [String: TopicListenerBox] = [:]
        var services: [String: ServiceEntry] = [:]
    }
    private let handlers = Mutex(Handlers())
    /// Service requests being handled or answered now (a stopping node lets them finish).
    let requestsInFlight = Atomic<Int>(0)
    let codec: any MessageCodec
    let logger: Logger

    init(codec: any MessageCodec, logger: Logger) {
        self.codec = codec
        self.logger = logger
    }

    // MARK: Registry

    /// Changes whenever a listener is set or removed (readers cache lookups against it).
    private let listenersVersion = Atomic<Int>(0)

    /// Sets the listener of `topic`; returns whether the topic is new.
    func setListener(_ topic: String, _ listener: @escaping TopicListener) -> Bool {
        defer { listenersVersion.add(1, ordering: .releasing) }
        let box = TopicListenerBox(listener)
        return handlers.withLock { $0.listeners.updateValue(box, forKey: topic) == nil }
    }

    /// Removes the listener of `topic`; returns whether there was one.
    func removeListener(_ topic: String) -> Bool {
        defer { listenersVersion.add(1, ordering: .releasing) }
        return handlers.withLock { $0.listeners.removeValue(forKey: topic) != nil }
    }

    /// The last listener or service one connection looked up, valid while the registry's
    /// version holds: a run of messages to one topic or calls to one service takes no lock.
    struct LookupCache<Entry: AnyObject> {
        var name = ""
        var version = -1
        var entry: Entry?
    }
    typealias ListenerCache = LookupCache<TopicListenerBox>
    typealias ServiceCache = LookupCache<ServiceEntry>

    private func lookUp<Entry>(
        _ name: String, version: Int, cache: inout LookupCache<Entry>, in table: (Handlers) -> [String: Entry]
    ) -> Entry? {
        if cache.version == version && cache.name == name { return cache.entry }
        let entry = handlers.withLock { table($0)[name] }
        cache = LookupCache(name: name, version: version, entry: entry)
        return entry
    }

    private func listener(for topic: String, cache: inout ListenerCache) -> TopicListenerBox? {
        lookUp(topic, version: listenersVersion.load(ordering: .acquiring), cache: &cache) { $0.listeners }
    }

    /// Changes whenever a service is set or removed (readers cache lookups against it).
    private let servicesVersion = Atomic<Int>(0)

    /// Sets the handler of `service`; returns whether the service is new.
    func setService(_ service: String, _ answer: ServiceEntry.Answer) -> Bool {
        defer { servicesVersion.add(1, ordering: .releasing) }
        let entry = ServiceEntry(answer)
        return handlers.withLock { $0.services.updateValue(entry, forKey: service) == nil }
    }

    /// Removes the handler of `service`; returns whether there was one.
    func removeService(_ service: String) -> Bool {
        defer { servicesVersion.add(1, ordering: .releasing) }
        return handlers.withLock { $0.services.removeValue(forKey: service) != nil }
    }

    /// The handler of `service`, or `nil` when this node does not provide it.
    func service(_ service: String, cache: inout ServiceCache) -> ServiceEntry? {
        lookUp(service, version: servicesVersion.load(ordering: .acquiring), cache: &cache) { $0.services }
    }

    var topics: Set<String> { handlers.withLock { Set($0.listeners.keys) } }
    var services: Set<String> { handlers.withLock { Set($0.services.keys) } }

    // MARK: Delivery

    /// What becomes of a topic message that arrived.
    enum Prepared {
        /// Decoded, for its listener.
        case deliver(TopicListenerBox, TopicMessage)
        /// Nobody here listens to its topic (logged): dropped.
        case unheard
        /// Its data cannot be decoded (logged): the peer lies or speaks another codec, so
        /// its connection is closed, as Python rosy closes it.
        case undecodable(any Error)
    }

    /// The listener of a message's topic and the decoded message, or why there is none.
    func prepare(_ frame: TopicMessageFrame, cache: inout ListenerCache) -> Prepared {
        prepare(topic: frame.topic, cache: &cache) {
            let (args, kwargs) = try decode(frame.arguments)
            return TopicMessage(topic: frame.topic, args: args, kwargs: kwargs, wireSize: frame.encodedSize)
        }
    }

    /// The listener of an inbox message's topic and the decoded message, or why there is
    /// none. A message still in the shared-memory lane is decoded from there and its place
    /// released.
    func prepare(_ message: InboxMessage, cache: inout ListenerCache) -> Prepared {
        switch message {
        case .frame(let frame):
            return prepare(frame, cache: &cache)
        case .inLane(let message):
            defer { message.release() }
            let places = message.places
            return prepare(topic: places.topic, cache: &cache) {
                do {
                    let (args, kwargs) = try places.decode(from: message.bytes, codec: codec)
                    return TopicMessage(topic: places.topic, args: args, kwargs: kwargs, wireSize: places.wireSize)
                } catch let error as UndecodableTopicMessage {
                    throw error.error  // the codec's error, as from a frame read off the socket
                }
            }
        }
    }

    /// The listener of `topic` and the message `decode` makes, or why there is none.
    @inline(__always)
    private func prepare(topic: String, cache: inout ListenerCache, decode: () throws -> TopicMessage) -> Prepared {
        guard let listener = listener(for: topic, cache: &cache) else {
            logger.warning("Received message for topic=\(topic) but no listener is registered; dropped")
            return .unheard
        }
        do {
            return .deliver(listener, try decode())
        } catch {
            logger.error("Closing a connection: a message on topic=\(topic) could not be decoded: \(error)")
            return .undecodable(error)
        }
    }

    /// Hands one message to its listener (called in order, one at a time, per connection).
    @inline(__always)
    nonisolated(nonsending) func deliver(_ message: TopicMessage, to listener: TopicListenerBox) async {
        do {
            try await listener.call(message)
        } catch {
            logger.error("Listener of topic=\(message.topic) threw: \(error)")
        }
    }

    /// Answers a request for a service this node does not provide (appends the error response).
    func refuse(_ frame: ServiceRequestFrame, into buffer: inout ByteBuffer) {
        logger.warning("Received service request for service=\(frame.service) but no handler is registered")
        FrameEncoder.writeServiceError(
            id: frame.id, message: "service='\(frame.service)' is not provided by this node", into: &buffer)
    }

    /// Runs a request through an immediate handler and appends the response to `buffer`.
    func respond(to frame: ServiceRequestFrame, with handler: ImmediateServiceHandler, into buffer: inout ByteBuffer) {
        let result = Result { () throws -> Value in
            let (args, kwargs) = try decode(frame.arguments)
            return try handler(ServiceRequest(service: frame.service, args: args, kwargs: kwargs))
        }
        respond(to: frame, with: result, into: &buffer)
    }

    /// Runs a request through a concurrent handler: its result, or why there is none.
    nonisolated(nonsending) func result(of frame: ServiceRequestFrame, with handler: ServiceHandler) async -> Result<Value, any Error> {
        do {
            let (args, kwargs) = try decode(frame.arguments)
            return .success(try await handler(ServiceRequest(service: frame.service, args: args, kwargs: kwargs)))
        } catch {
            return .failure(error)
        }
    }

    /// Appends the response to a request that a handler answered with `result` (or the
    /// error response, if it threw or the result cannot be encoded).
    func respond(to frame: ServiceRequestFrame, with result: Result<Value, any Error>, into buffer: inout ByteBuffer) {
        do {
            try FrameEncoder.writeServiceResult(id: frame.id, result: try result.get(), codec: codec, into: &buffer)
        } catch {
            failed(frame, error, into: &buffer)
        }
    }

    /// The handler threw, or the arguments or result could not be coded: an error response.
    private func failed(_ frame: ServiceRequestFrame, _ error: any Error, into buffer: inout ByteBuffer) {
        logger.error("Service \(frame.service) failed: \(error)")
        FrameEncoder.writeServiceError(id: frame.id, message: Self.errorText(error), into: &buffer)
    }

    private func decode(_ arguments: RawArguments) throws -> ([Value], Kwargs) {
        var args: [Value] = []
        args.reserveCapacity(arguments.args.count)
        for item in arguments.args {
            var item = item
            args.append(try codec.decode(&item))
        }
        var kwargs: Kwargs = [:]
        if !arguments.kwargs.isEmpty {
            kwargs.reserveCapacity(arguments.kwargs.count)
            for kwarg in arguments.kwargs {
                var item = kwarg.data
                kwargs[kwarg.name] = try codec.decode(&item)
            }
        }
        return (args, kwargs)
    }

    /// The text sent to the caller: the error's description, as Python sends `repr(exception)`.
    static func errorText(_ error: any Error) -> String {
        String(describing: error)
    }
}
