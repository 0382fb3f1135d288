import NIOCore
import OrderedCollections
import RosyWire

/// The Foxglove WebSocket protocol, subprotocol `foxglove.websocket.v1`
/// (github.com/foxglove/ws-protocol, docs/spec.md): the messages the bridge sends and
/// reads, as values and bytes. No I/O here.
///
/// Text messages are JSON objects with an `op` field; binary messages start with a one-byte
/// opcode, and their integers are little-endian.
public enum FoxgloveProtocol {
    /// The WebSocket subprotocol a client must offer.
    public static let subprotocol = "foxglove.websocket.v1"

    /// The only message encoding the bridge speaks: each message is the JSON object
    /// `{"args": [...], "kwargs": {...}}` (``MessageJSON``).
    public static let encoding = "json"

    /// The capabilities announced in serverInfo.
    public static let capabilities = ["clientPublish", "services"]

    /// Binary opcodes sent by the server.
    enum ServerOpcode: UInt8 {
        case messageData = 0x01
        case serviceCallResponse = 0x03
    }

    /// Binary opcodes sent by the client.
    enum ClientOpcode: UInt8 {
        case messageData = 0x01
        case serviceCallRequest = 0x02
    }
}

// MARK: Server to client

/// A channel: one rosy topic, as advertised.
struct AdvertisedChannel: Equatable, Sendable {
    var id: UInt32
    var topic: String
}

/// A service: one rosy service, as advertised.
struct AdvertisedService: Equatable, Sendable {
    var id: UInt32
    var name: String
}

/// The text messages the server sends.
enum ServerMessage: Equatable, Sendable {
    case serverInfo(name: String, sessionID: String, metadata: [String: String])
    case status(level: StatusLevel, message: String)
    case advertise([AdvertisedChannel])
    case unadvertise([UInt32])
    case advertiseServices([AdvertisedService])
    case unadvertiseServices([UInt32])
    case serviceCallFailure(serviceID: UInt32, callID: UInt32, message: String)

    enum StatusLevel: Int64, Sendable {
        case info = 0
        case warning = 1
        case error = 2
    }

    /// The message as JSON text, ready for a text frame.
    var jsonText: String { value.jsonText }

    private var value: Value {
        switch self {
        case .serverInfo(let name, let sessionID, let metadata):
            var meta = OrderedDictionary<Value, Value>()
            for key in metadata.keys.sorted() { meta[.string(key)] = .string(metadata[key]!) }
            return .dict([
                "op": "serverInfo", "name": .string(name),
                "capabilities": .list(FoxgloveProtocol.capabilities.map { .string($0) }),
                "supportedEncodings": [.string(FoxgloveProtocol.encoding)],
                "metadata": .dict(meta), "sessionId": .string(sessionID),
            ])
        case .status(let level, let message):
            return .dict(["op": "status", "level": .int(level.rawValue), "message": .string(message)])
        case .advertise(let channels):
            return .dict(["op": "advertise", "channels": .list(channels.map { channel in
                .dict([
                    "id": .int(Int64(channel.id)), "topic": .string(channel.topic),
                    "encoding": .string(FoxgloveProtocol.encoding),
                    "schemaName": .string(MessageJSON.schemaName),
                    "schema": .string(MessageJSON.schema), "schemaEncoding": "jsonschema",
                ])
            })])
        case .unadvertise(let ids):
            return .dict(["op": "unadvertise", "channelIds": .list(ids.map { .int(Int64($0)) })])
        case .advertiseServices(let services):
            return .dict(["op": "advertiseServices", "services": .list(services.map { service in
                .dict([
                    "id": .int(Int64(service.id)), "name": .string(service.name), "type": "rosy.Service",
                    "requestSchema": .string(MessageJSON.schema), "responseSchema": .string(Self.responseSchema),
                ])
            })])
        case .unadvertiseServices(let ids):
            return .dict(["op": "unadvertiseServices", "serviceIds": .list(ids.map { .int(Int64($0)) })])
        case .serviceCallFailure(let serviceID, let callID, let message):
            return .dict([
                "op": "serviceCallFailure", "serviceId": .int(Int64(serviceID)),
                "callId": .int(Int64(callID)), "message": .string(message),
            ])
        }
    }

    /// A service's response: whatever JSON value the service returned.
    static let responseSchema = #"{"title":"rosy.Response","description":"The value the service returned."}"#
}

/// The binary messages the server sends.
enum ServerBinary {
    /// messageData: opcode, subscription id, receive time in nanoseconds, payload.
    static func messageData(subscriptionID: UInt32, receiveTime: UInt64, payload: ByteBuffer,
                            allocator: ByteBufferAllocator) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 13 + payload.readableBytes)
        buffer.writeInteger(FoxgloveProtocol.ServerOpcode.messageData.rawValue)
        buffer.writeInteger(subscriptionID, endianness: .little)
        buffer.writeInteger(receiveTime, endianness: .little)
        buffer.writeImmutableBuffer(payload)
        return buffer
    }

    /// serviceCallResponse: opcode, service id, call id, encoding, payload.
    static func serviceCallResponse(serviceID: UInt32, callID: UInt32, payload: String,
                                    allocator: ByteBufferAllocator) -> ByteBuffer {
        let encoding = FoxgloveProtocol.encoding
        var buffer = allocator.buffer(capacity: 13 + encoding.utf8.count + payload.utf8.count)
        buffer.writeInteger(FoxgloveProtocol.ServerOpcode.serviceCallResponse.rawValue)
        buffer.writeInteger(serviceID, endianness: .little)
        buffer.writeInteger(callID, endianness: .little)
        buffer.writeInteger(UInt32(encoding.utf8.count), endianness: .little)
        buffer.writeString(encoding)
        buffer.writeString(payload)
        return buffer
    }
}

// MARK: Client to server

/// A client's channel, from its advertise.
struct ClientChannel: Equatable, Sendable {
    var id: UInt32
    var topic: String
    var encoding: String
}

/// What a client sends, read from a text or binary frame.
enum ClientMessage: Equatable, Sendable {
    case subscribe([(id: UInt32, channelID: UInt32)])
    case unsubscribe([UInt32])
    case advertise([ClientChannel])
    case unadvertise([UInt32])
    case messageData(channelID: UInt32, payload: ByteBuffer)
    case serviceCallRequest(serviceID: UInt32, callID: UInt32, encoding: String, payload: ByteBuffer)
    /// An op the bridge does not offer (parameters, connection graph, assets).
    case unsupported(op: String)

    static func == (lhs: ClientMessage, rhs: ClientMessage) -> Bool {
        switch (lhs, rhs) {
        case (.subscribe(let a), .subscribe(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.id == $1.id && $0.channelID == $1.channelID }
        case (.unsubscribe(let a), .unsubscribe(let b)), (.unadvertise(let a), .unadvertise(let b)): return a == b
        case (.advertise(let a), .advertise(let b)): return a == b
        case (.messageData(let c1, let p1), .messageData(let c2, let p2)): return c1 == c2 && p1 == p2
        case (.serviceCallRequest(let s1, let c1, let e1, let p1), .serviceCallRequest(let s2, let c2, let e2, let p2)):
            return s1 == s2 && c1 == c2 && e1 == e2 && p1 == p2
        case (.unsupported(let a), .unsupported(let b)): return a == b
        default: return false
        }
    }

    /// Reads a text frame: a JSON object with `op`.
    static func parse(text: ByteBuffer) throws -> ClientMessage {
        var buffer = text
        let value: Value
        do {
            value = try JSONCodec().decode(&buffer)
        } catch {
            throw FoxgloveProtocolError("a text message that is not JSON: \(error)")
        }
        guard let object = value.dictValue else { throw FoxgloveProtocolError("a text message that is not a JSON object") }
        guard let op = object["op"]?.stringValue else { throw FoxgloveProtocolError("a text message without \"op\"") }
        switch op {
        case "subscribe":
            return .subscribe(try items(object, "subscriptions").map { item in
                (id: try id(item, "id"), channelID: try id(item, "channelId"))
            })
        case "unsubscribe":
            return .unsubscribe(try ids(object, "subscriptionIds"))
        case "advertise":
            return .advertise(try items(object, "channels").map { item in
                guard let topic = item["topic"]?.stringValue else { throw FoxgloveProtocolError("advertise: a channel without \"topic\"") }
                return ClientChannel(id: try id(item, "id"), topic: topic,
                                     encoding: item["encoding"]?.stringValue ?? "")
            })
        case "unadvertise":
            return .unadvertise(try ids(object, "channelIds"))
        default:
            return .unsupported(op: op)
        }
    }

    /// Reads a binary frame: an opcode and its fields.
    static func parse(binary: ByteBuffer) throws -> ClientMessage {
        var buffer = binary
        guard let opcode = buffer.readInteger(as: UInt8.self) else { throw FoxgloveProtocolError("an empty binary message") }
        switch FoxgloveProtocol.ClientOpcode(rawValue: opcode) {
        case .messageData:
            guard let channel = buffer.readInteger(endianness: .little, as: UInt32.self) else {
                throw FoxgloveProtocolError("clientMessageData shorter than its header")
            }
            return .messageData(channelID: channel, payload: buffer)
        case .serviceCallRequest:
            guard let service = buffer.readInteger(endianness: .little, as: UInt32.self),
                  let call = buffer.readInteger(endianness: .little, as: UInt32.self),
                  let length = buffer.readInteger(endianness: .little, as: UInt32.self),
                  let encoding = buffer.readString(length: Int(length))
            else { throw FoxgloveProtocolError("serviceCallRequest shorter than its header") }
            return .serviceCallRequest(serviceID: service, callID: call, encoding: encoding, payload: buffer)
        case nil:
            throw FoxgloveProtocolError("a binary message with unknown opcode \(opcode)")
        }
    }

    private static func items(_ object: OrderedDictionary<Value, Value>, _ key: String) throws -> [OrderedDictionary<Value, Value>] {
        guard let list = object[.string(key)]?.arrayValue else { throw FoxgloveProtocolError("\"\(key)\" is not an array") }
        var result: [OrderedDictionary<Value, Value>] = []
        for item in list {
            guard let dict = item.dictValue else { throw FoxgloveProtocolError("an item of \"\(key)\" is not an object") }
            result.append(dict)
        }
        return result
    }

    private static func ids(_ object: OrderedDictionary<Value, Value>, _ key: String) throws -> [UInt32] {
        guard let list = object[.string(key)]?.arrayValue else { throw FoxgloveProtocolError("\"\(key)\" is not an array") }
        var result: [UInt32] = []
        for item in list {
            guard let number = item.intValue, let id = UInt32(exactly: number) else {
                throw FoxgloveProtocolError("\"\(key)\" holds something other than ids")
            }
            result.append(id)
        }
        return result
    }

    private static func id(_ object: OrderedDictionary<Value, Value>, _ key: String) throws -> UInt32 {
        guard let number = object[.string(key)]?.intValue, let id = UInt32(exactly: number) else {
            throw FoxgloveProtocolError("\"\(key)\" is missing or not an id")
        }
        return id
    }
}

/// A client message the bridge cannot read; it answers with an error status.
struct FoxgloveProtocolError: Error, CustomStringConvertible, Equatable {
    var description: String
    init(_ description: String) { self.description = description }
}
