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

    public init(topic: String, args: [Value] = [], kwargs: Kwargs = [:]) {
        self.topic = topic
        self.args = args
        self.kwargs = kwargs
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

