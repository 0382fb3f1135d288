import OrderedCollections
import NIOCore
import RosyDiscovery
import RosyWire

extension Node {
    /// Sends a message on `topic` to every listening node (subject to the topic load balancer).
    /// Returns once the message is queued; with no listener it does nothing.
    ///
    /// ```swift
    /// try await node.send("some-topic", "hello", kwargs: ["name": "world"])
    /// ```
    ///
    /// Throws ``FrameError`` before sending when the topic or a keyword is longer than
    /// 255 bytes or there are more than 255 args or kwargs, and ``CodecError`` when the
    /// codec cannot encode an argument.
    @inlinable
    nonisolated(nonsending) public func send(_ topic: String, _ args: Value..., kwargs: Kwargs = [:]) async throws {
        try await send(topic, args: args, kwargs: kwargs)
    }

    /// Sends a message on `topic`, with the arguments as an array.
    ///
    /// It runs on the caller's executor (`nonisolated(nonsending)`): it never blocks, and
    /// a sender in a loop then pays no executor hop per message.
    nonisolated(nonsending) public func send(_ topic: String, args: [Value], kwargs: Kwargs = [:]) async throws {
        try FrameEncoder.validate(name: topic, args: args, kwargs: kwargs)
        let listeners = topology.listeners(of: topic)
        if listeners.isEmpty { return }
        let chosen = options.topicLoadBalancer.chooseNodes(listeners, topic: topic)
        if chosen.isEmpty { return }
        let deadline = NIODeadline.coarseNow() + options.outboxTimeToLive
        let estimatedSize = estimatedFrameSize(name: topic, args: args, kwargs: kwargs)
        if chosen.count == 1, estimatedSize <= PeerLink.coalesceLimit {
            // The usual case: encoded straight into the peer's outbox, no buffer of its own.
            func encode(_ buffer: inout ByteBuffer) throws {
                try FrameEncoder.writeTopicMessage(topic: topic, args: args, kwargs: kwargs, codec: self.codec, into: &buffer)
            }
            let link = link(toNodeAt: 0, of: chosen)
            if try !link.offer(deadline: deadline, encode: encode) {
                try await link.send(deadline: deadline, encode: encode)
            }
            return
        }
        let frame: Outbox.Frame
        let largePayloads = chosen.count == 1 && sendsThroughLanes && codec.leavesOutLargePayloads
            ? largePayloadBytes(args: args, kwargs: kwargs, threshold: SharedMemoryLane.threshold) : 0
        if largePayloads > 0, estimatedSize <= SharedMemoryLane.largestFrame {
            // A large message to one peer: its large payloads are put in when it is written,
            // straight into the connection's shared-memory lane if it has one (one copy).
            let gathered = try FrameEncoder.gatherTopicMessage(
                topic: topic, args: args, kwargs: kwargs, codec: codec, deferringPayloadsFrom: SharedMemoryLane.threshold,
                capacity: estimatedSize - largePayloads, allocator: allocator)
            frame = gathered.payloads.isEmpty ? .bytes(gathered.head) : .gathered(gathered)
        } else {
            // Encoded once; every peer gets the same bytes.
            var bytes = allocator.buffer(capacity: estimatedSize)
            try FrameEncoder.writeTopicMessage(topic: topic, args: args, kwargs: kwargs, codec: codec, into: &bytes)
            frame = .bytes(bytes)
        }
        for index in chosen.indices {
            let link = link(toNodeAt: index, of: chosen)
            if !link.offer(frame, deadline: deadline) {
                await link.send(frame, deadline: deadline)
            }
        }
    }

    /// Listens to `topic`: `listener` gets each message, one at a time and in order per sender.
    /// Listening again to the same topic replaces the listener.
    ///
    /// ```swift
    /// try await node.listen("some-topic") { message in
    ///     print("Received \(message.args) on topic=\(message.topic)")
    /// }
    /// ```
    public func listen(_ topic: String, _ listener: @escaping TopicListener) async throws {
        try FrameEncoder.validateName(topic)
        if dispatcher.setListener(topic, listener) {
            await publish()
        }
    }

    /// Listens to `topic` and returns its messages as an async sequence.
    ///
    /// ```swift
    /// for await message in try await node.messages(on: "pose") { ... }
    /// ```
    ///
    /// Up to `bufferSize` messages wait for the loop; beyond that the oldest is dropped.
    /// Ending the loop stops listening.
    public func messages(on topic: String, bufferSize: Int = 1000) async throws -> TopicMessages {
        let (stream, continuation) = AsyncStream.makeStream(of: TopicMessage.self, bufferingPolicy: .bufferingNewest(max(1, bufferSize)))
        continuation.onTermination = { [weak self] _ in
            Task { await self?.stopListening(topic) }
        }
        try await listen(topic) { message in continuation.yield(message) }
        return TopicMessages(stream: stream)
    }

    /// Stops listening to `topic` (a message still arriving for it is logged and dropped).
    public func stopListening(_ topic: String) async {
        if dispatcher.removeListener(topic) {
            await publish()
        } else {
            logger.warning("Attempted to remove non-existing listener for topic=\(topic)")
        }
    }

    /// Whether any node (this one included) listens to `topic` now.
    public func hasListeners(_ topic: String) -> Bool {
        !topology.listeners(of: topic).isEmpty
    }

    /// Waits until some node listens to `topic`; returns `false` if `timeout` passed first.
    ///
    /// ```swift
    /// guard await node.waitForListener("some-topic", timeout: .seconds(10)) else { return }
    /// ```
    @discardableResult
    public func waitForListener(_ topic: String, timeout: Duration? = nil) async -> Bool {
        await waitUntil(timeout: timeout) { self.hasListeners(topic) }
    }

    /// A handle for sending to one topic again and again.
    public func topic(_ name: String) -> TopicHandle {
        TopicHandle(node: self, name: name)
    }

    func waitUntil(timeout: Duration?, _ condition: () -> Bool) async -> Bool {
        let clock = ContinuousClock()
        let deadline = timeout.map { clock.now + $0 }
        while !condition() {
            if let deadline, clock.now >= deadline { return false }
            if Task.isCancelled { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }
}

/// The messages of one topic, as ``Node/messages(on:bufferSize:)`` returns them.
public struct TopicMessages: AsyncSequence, Sendable {
    public typealias Element = TopicMessage
    let stream: AsyncStream<TopicMessage>

    public func makeAsyncIterator() -> AsyncStream<TopicMessage>.Iterator {
        stream.makeAsyncIterator()
    }
}

/// One topic of one node, for repeated use.
///
/// ```swift
/// let poses = node.topic("pose")
/// await poses.waitForListener()
/// try await poses.send(1.0, 2.0)
/// ```
public struct TopicHandle: Sendable {
    public let node: Node
    public let name: String

    public func send(_ args: Value..., kwargs: Kwargs = [:]) async throws {
        try await node.send(name, args: args, kwargs: kwargs)
    }

    public var hasListeners: Bool { node.hasListeners(name) }

    @discardableResult
    public func waitForListener(timeout: Duration? = nil) async -> Bool {
        await node.waitForListener(name, timeout: timeout)
    }

    public func listen(_ listener: @escaping TopicListener) async throws {
        try await node.listen(name, listener)
    }

    public func stopListening() async {
        await node.stopListening(name)
    }
}
