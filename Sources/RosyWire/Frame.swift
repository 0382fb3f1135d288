import NIOCore

// The frames of a rosy 0.8.3 connection (reference section 3).
//
// A frame keeps its data items as raw bytes (slices of the received buffer, no copy):
// the framing is checked by the decoder, the data by the node's codec, so that
// undecodable data drops one message while the connection goes on.

/// One keyword argument as it travels: its name and its data item's bytes.
public struct RawKeywordArgument: Sendable, Hashable {
    public var name: String
    public var data: ByteBuffer

    public init(name: String, data: ByteBuffer) {
        self.name = name
        self.data = data
    }
}

/// The arguments of a topic message or service request, still encoded by the data codec.
public struct RawArguments: Sendable, Hashable {
    /// One data item per positional argument.
    public var args: [ByteBuffer]
    /// One data item per keyword argument, in wire order.
    public var kwargs: [RawKeywordArgument]

    public init(args: [ByteBuffer] = [], kwargs: [RawKeywordArgument] = []) {
        self.args = args
        self.kwargs = kwargs
    }

    /// Decodes every argument with `codec`.
    ///
    /// ```swift
    /// let (args, kwargs) = try frame.arguments.decoded(with: PickleCodec())
    /// ```
    public func decoded(with codec: some MessageCodec) throws -> (args: [Value], kwargs: [(name: String, value: Value)]) {
        var values: [Value] = []
        values.reserveCapacity(args.count)
        for item in args {
            var item = item
            values.append(try codec.decode(&item))
        }
        var named: [(name: String, value: Value)] = []
        named.reserveCapacity(kwargs.count)
        for kwarg in kwargs {
            var item = kwarg.data
            named.append((kwarg.name, try codec.decode(&item)))
        }
        return (values, named)
    }
}

/// A topic message: prefix `t`, the topic, args and kwargs.
public struct TopicMessageFrame: Sendable, Hashable {
    public var topic: String
    public var arguments: RawArguments

    public init(topic: String, arguments: RawArguments) {
        self.topic = topic
        self.arguments = arguments
    }

    /// The frame's size on the wire, in bytes: the prefix, the topic, the counts, and each
    /// data item and keyword name with its length (computed from the parts, no copy).
    ///
    /// ```swift
    /// var buffer = ByteBuffer()
    /// try FrameEncoder.writeTopicMessage(topic: "t", args: [1], kwargs: Kwargs(), codec: codec, into: &buffer)
    /// // the decoded frame's encodedSize == buffer.readableBytes
    /// ```
    public var encodedSize: Int {
        // 't', the topic's u8 length, the u8 counts of args and kwargs.
        var bytes = 4 + topic.utf8.count
        for arg in arguments.args { bytes += 4 + arg.readableBytes }
        for kwarg in arguments.kwargs { bytes += 1 + kwarg.name.utf8.count + 4 + kwarg.data.readableBytes }
        return bytes
    }
}

/// A service request: prefix `s`, a request id (per connection), the service, args and kwargs.
public struct ServiceRequestFrame: Sendable, Hashable {
    public var id: UInt16
    public var service: String
    public var arguments: RawArguments

    public init(id: UInt16, service: String, arguments: RawArguments) {
        self.id = id
        self.service = service
        self.arguments = arguments
    }
}

/// A service response (no prefix byte): the request's id and either a result or an error text.
public struct ServiceResponseFrame: Sendable, Hashable {
    /// What the provider answered.
    public enum Outcome: Sendable, Hashable {
        /// Status `0x00`: the result's data item.
        case success(ByteBuffer)
        /// Status `0xEE`: the error text (Python sends `repr(exception)`).
        case failure(String)
    }

    public var id: UInt16
    public var outcome: Outcome

    public init(id: UInt16, outcome: Outcome) {
        self.id = id
        self.outcome = outcome
    }
}

/// Where a client put a whole frame in the shared memory it and the server both map
/// (prefix `m`, then u64 position and u32 length): an extension of this implementation's,
/// sent only to a server that accepted the client's offer of a shared-memory lane on that
/// connection (`Rosy`'s `SharedMemoryLane`); rosy 0.8.3 never sees one.
public struct SharedMemoryReference: Sendable, Hashable {
    /// Where the frame starts in the lane's stream of bytes (it counts up for ever; the
    /// place in the ring is this modulo the ring's size).
    public var position: UInt64
    /// The frame's size in bytes.
    public var length: UInt32

    public init(position: UInt64, length: UInt32) {
        self.position = position
        self.length = length
    }

    /// The size of the frame on the wire: `m`, u64, u32.
    public static let encodedSize = 13
}

/// What a client sends to a node's server.
public enum InboundFrame: Sendable, Hashable {
    case topicMessage(TopicMessageFrame)
    case serviceRequest(ServiceRequestFrame)
    /// Only from a client whose shared-memory lane the server accepted
    /// (``InboundFrameDecoder/acceptsSharedMemoryReferences``).
    case sharedMemoryReference(SharedMemoryReference)
}

/// The first byte of every client-to-server frame.
public enum FramePrefix {
    /// `t`: a topic message.
    public static let topicMessage: UInt8 = 0x74
    /// `s`: a service request.
    public static let serviceRequest: UInt8 = 0x73
    /// `m`: a ``SharedMemoryReference`` (this implementation's extension, never sent to rosy 0.8.3).
    public static let sharedMemoryReference: UInt8 = 0x6D
}

/// The status byte of a service response.
public enum ResponseStatus {
    public static let success: UInt8 = 0x00
    public static let failure: UInt8 = 0xEE
}
