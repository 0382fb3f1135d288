import NIOCore
import RosyWire
import XCTest

@testable import RosyFoxglove

/// The protocol's messages as bytes, and the id table, without I/O.
final class FoxgloveProtocolTests: XCTestCase {
    func testServerTextMessagesAreTheSpecsJSON() throws {
        let advertise = ServerMessage.advertise([AdvertisedChannel(id: 3, topic: "pose")]).jsonText
        let value = try json(advertise)
        XCTAssertEqual(value.dictValue?["op"], "advertise")
        let channel = try XCTUnwrap(value.dictValue?["channels"]?.arrayValue?.first?.dictValue)
        XCTAssertEqual(channel["id"], 3)
        XCTAssertEqual(channel["topic"], "pose")
        XCTAssertEqual(channel["encoding"], "json")
        XCTAssertEqual(channel["schemaName"], "rosy.Message")
        XCTAssertEqual(channel["schemaEncoding"], "jsonschema")
        XCTAssertEqual(channel["schema"]?.stringValue, MessageJSON.schema)

        let info = try json(ServerMessage.serverInfo(name: "n", sessionID: "s", metadata: ["domainId": "d"]).jsonText)
        XCTAssertEqual(info.dictValue?["capabilities"], ["clientPublish", "services"])
        XCTAssertEqual(info.dictValue?["supportedEncodings"], ["json"])
        XCTAssertEqual(info.dictValue?["metadata"], .dict(["domainId": "d"]))

        let failure = try json(ServerMessage.serviceCallFailure(serviceID: 1, callID: 2, message: "boom").jsonText)
        XCTAssertEqual(failure, .dict(["op": "serviceCallFailure", "serviceId": 1, "callId": 2, "message": "boom"]))
    }

    func testMessageDataIsOpcodeSubscriptionTimestampPayload() {
        let payload = ByteBuffer(string: #"{"args":[1],"kwargs":{}}"#)
        var frame = ServerBinary.messageData(subscriptionID: 0x0102_0304, receiveTime: 0x0A0B_0C0D_0E0F_1011,
                                             payload: payload, allocator: ByteBufferAllocator())
        XCTAssertEqual(frame.readBytes(length: 13), [0x01, 0x04, 0x03, 0x02, 0x01, 0x11, 0x10, 0x0F, 0x0E, 0x0D, 0x0C, 0x0B, 0x0A])
        XCTAssertEqual(frame.readString(length: frame.readableBytes), #"{"args":[1],"kwargs":{}}"#)

        var response = ServerBinary.serviceCallResponse(serviceID: 7, callID: 9, payload: "6", allocator: ByteBufferAllocator())
        XCTAssertEqual(response.readBytes(length: 13), [0x03, 7, 0, 0, 0, 9, 0, 0, 0, 4, 0, 0, 0])
        XCTAssertEqual(response.readString(length: response.readableBytes), "json6")
    }

    func testClientTextMessages() throws {
        XCTAssertEqual(try parse(#"{"op":"subscribe","subscriptions":[{"id":0,"channelId":3},{"id":1,"channelId":5}]}"#),
                       .subscribe([(0, 3), (1, 5)]))
        XCTAssertEqual(try parse(#"{"op":"unsubscribe","subscriptionIds":[0,1]}"#), .unsubscribe([0, 1]))
        XCTAssertEqual(try parse(#"{"op":"advertise","channels":[{"id":2,"topic":"cmd","encoding":"json","schemaName":"x"}]}"#),
                       .advertise([ClientChannel(id: 2, topic: "cmd", encoding: "json")]))
        XCTAssertEqual(try parse(#"{"op":"unadvertise","channelIds":[2]}"#), .unadvertise([2]))
        XCTAssertEqual(try parse(#"{"op":"getParameters","parameterNames":[]}"#), .unsupported(op: "getParameters"))
    }

    func testBadClientTextMessagesAreErrorsThatSayWhy() {
        for (text, reason) in [
            ("not json", "not JSON"), ("[1]", "not a JSON object"), (#"{"x":1}"#, "without \"op\""),
            (#"{"op":"subscribe"}"#, "\"subscriptions\" is not an array"),
            (#"{"op":"subscribe","subscriptions":[{"id":-1,"channelId":1}]}"#, "\"id\" is missing or not an id"),
            (#"{"op":"unsubscribe","subscriptionIds":["a"]}"#, "other than ids"),
        ] {
            XCTAssertThrowsError(try parse(text), text) { error in
                XCTAssertTrue("\(error)".contains(reason), "\(text): \(error)")
            }
        }
    }

    func testClientBinaryMessages() throws {
        var data = ByteBuffer(bytes: [0x01, 5, 0, 0, 0])
        data.writeString("{}")
        XCTAssertEqual(try ClientMessage.parse(binary: data), .messageData(channelID: 5, payload: ByteBuffer(string: "{}")))

        var call = ByteBuffer(bytes: [0x02, 1, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0])
        call.writeString("json[1]")
        XCTAssertEqual(try ClientMessage.parse(binary: call),
                       .serviceCallRequest(serviceID: 1, callID: 2, encoding: "json", payload: ByteBuffer(string: "[1]")))

        for bytes: [UInt8] in [[], [0x01, 1], [0x02, 1, 0, 0, 0, 2, 0, 0, 0, 200, 0, 0, 0], [0x09]] {
            XCTAssertThrowsError(try ClientMessage.parse(binary: ByteBuffer(bytes: bytes)), "\(bytes)")
        }
    }

    func testNameTableKeepsIdsOfNamesThatComeBack() {
        var table = NameTable()
        let first = table.update(to: ["scan", "pose"])
        XCTAssertEqual(first.added.map(\.name), ["pose", "scan"])
        XCTAssertEqual(first.added.map(\.id), [1, 2])
        XCTAssertTrue(table.update(to: ["scan", "pose"]).isEmpty)
        XCTAssertEqual(table.update(to: ["scan"]).removed, [1])
        XCTAssertNil(table.id(of: "pose"))
        let back = table.update(to: ["scan", "pose", "odom"])
        XCTAssertEqual(back.added.map(\.name), ["odom", "pose"])
        XCTAssertEqual(back.added.map(\.id), [3, 1])
        XCTAssertEqual(table.id(of: "pose"), 1)
    }

    private func parse(_ text: String) throws -> ClientMessage {
        try ClientMessage.parse(text: ByteBuffer(string: text))
    }

    private func json(_ text: String) throws -> Value {
        var buffer = ByteBuffer(string: text)
        return try JSONCodec().decode(&buffer)
    }
}
