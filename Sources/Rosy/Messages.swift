import OrderedCollections
import RosyWire

/// A message received on a topic: the topic, and the sender's positional and keyword arguments.
///
/// ```swift
/// try await node.listen("some-topic") { message in
///     let text = message.args.first?.stringValue ?? ""
///     print("Received \"\(text) \(message.kwargs["name"]?.stringValue ?? "")\" on topic=\(message.topic)")
/// }
/// ```
public struct TopicMessage: Sendable, Hashable {
    public var topic: String
    public var args: [Value]
    public var kwargs: Kwargs
    /// The bytes the message took on the wire: its whole frame as received (prefix, topic,
    /// args and kwargs, each with its length), as `rosy topic bw` counts them; `nil` for a
    /// message made here rather than received.
    ///
    /// ```swift
    /// try await node.listen("camera") { message in
    ///     print("\(message.wireSize ?? 0) bytes")
    /// }
    /// ```
    ///
    /// It is how the message travelled, not part of its value: `==` and hashing ignore it.
    public internal(set) var wireSize: Int?

    public init(topic: String, args: [Value] = [], kwargs: Kwargs = [:]) {
        self.topic = topic
        self.args = args
        self.kwargs = kwargs
    }

    init(topic: String, args: [Value], kwargs: Kwargs, wireSize: Int) {
        self.init(topic: topic, args: args, kwargs: kwargs)
        self.wireSize = wireSize
    }

    public static func == (lhs: TopicMessage, rhs: TopicMessage) -> Bool {
        lhs.topic == rhs.topic && lhs.args == rhs.args && lhs.kwargs == rhs.kwargs
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(topic)
        hasher.combine(args)
        hasher.combine(kwargs)
    }
}

/// A call received by a service handler: the service name and the caller's arguments.
public struct ServiceRequest: Sendable, Hashable {
    public var service: String
    public var args: [Value]
    public var kwargs: Kwargs

    public init(service: String, args: [Value] = [], kwargs: Kwargs = [:]) {
        self.service = service
        self.args = args
        self.kwargs = kwargs
    }
}

