import Foundation
import NIOCore
@testable import Rosy
import RosyDiscovery
import RosyWire
import XCTest

/// The shared-memory lane between two rosy-swift nodes of one host: the ring itself (one
/// writer, one reader, real memfd memory), what a server refuses to map, and nodes that
/// send large messages and calls through it, with it refused, and with it full.
final class SharedMemoryLaneTests: XCTestCase {
    private func frames(_ byte: UInt8, count: Int) -> ByteBuffer {
        ByteBuffer(bytes: [UInt8](repeating: byte, count: count))
    }

    /// Sends `args` (a large message) and waits until the lane it offers is open.
    private func sendOpeningTheLane(_ sender: Node, _ args: [Value]) async throws {
        let opened = SharedMemoryLane.lanesOpened.load(ordering: .relaxed)
        try await sender.send("bulk", args: args)
        let deadline = ContinuousClock.now + .seconds(10)
        while SharedMemoryLane.lanesOpened.load(ordering: .relaxed) == opened, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func testFramesGoRoundTheRingAndComeOutAsTheyWent() throws {
        let writer = try LaneWriter(ringSize: 256 * 1024)
        var reader = try LaneReader(path: writer.path, cookie: writer.cookie, ringSize: 256 * 1024, largest: 1 << 20)
        let allocator = ByteBufferAllocator()
        // 100 KB pieces in a 256 KiB ring: the third one does not fit before the end and
        // starts again at the ring's start; every one comes out as it went in.
        var positions: [UInt64] = []
        for round in 0..<20 {
            let sent = frames(UInt8(round), count: 100_000 + round)
            guard let reference = writer.place(sent) else { return XCTFail("no room in round \(round)") }
            positions.append(reference.position)
            XCTAssertEqual(Int(reference.length), sent.readableBytes)
            XCTAssertLessThanOrEqual(reference.position % (256 * 1024) + UInt64(reference.length), 256 * 1024, "no frame wraps")
            XCTAssertEqual(try reader.take(reference, allocator: allocator), sent)
        }
        XCTAssertEqual(positions[2], 256 * 1024, "the third frame starts at the ring's second turn")
    }

    func testAFullRingTakesNothingUntilTheReaderCatchesUp() throws {
        let writer = try LaneWriter(ringSize: 256 * 1024)
        var reader = try LaneReader(path: writer.path, cookie: writer.cookie, ringSize: 256 * 1024, largest: 1 << 20)
        let first = try XCTUnwrap(writer.place(frames(1, count: 120_000)))
        let second = try XCTUnwrap(writer.place(frames(2, count: 120_000)))
        XCTAssertNil(writer.place(frames(3, count: 120_000)), "240,000 of 262,144 bytes are unread")
        XCTAssertEqual(try reader.take(first, allocator: ByteBufferAllocator()), frames(1, count: 120_000))
        let third = try XCTUnwrap(writer.place(frames(3, count: 120_000)), "the first one's room is free again")
        XCTAssertEqual(try reader.take(second, allocator: ByteBufferAllocator()), frames(2, count: 120_000))
        XCTAssertEqual(try reader.take(third, allocator: ByteBufferAllocator()), frames(3, count: 120_000))
    }

    private func topicFrame(_ byte: UInt8, count: Int) throws -> GatheredFrame {
        try FrameEncoder.gatherTopicMessage(
            topic: "big", args: [.tuple([.double(Double(byte)), .bytes([UInt8](repeating: byte, count: count))])],
            kwargs: [:], codec: PickleCodec())
    }

    /// A topic message left in the lane keeps its place (and every later one's) until it is
    /// released, whatever was copied out behind it; releases free the ring in order.
    func testMessagesLeftInTheLaneHoldTheirPlaceUntilReleased() throws {
        let writer = try LaneWriter(ringSize: 256 * 1024)
        var reader = try LaneReader(path: writer.path, cookie: writer.cookie, ringSize: 256 * 1024, largest: 1 << 20)
        let limit = defaultMaximumMessageSize
        let first = try XCTUnwrap(writer.place(.gathered(try topicFrame(1, count: 80_000))))
        let second = try XCTUnwrap(writer.place(frames(2, count: 80_000)))  // not a topic message: copied out
        let borrowed = try XCTUnwrap(try reader.borrowTopicMessage(first, maximumMessageSize: limit))
        XCTAssertNil(try reader.borrowTopicMessage(second, maximumMessageSize: limit), "not a topic message")
        XCTAssertEqual(try reader.take(second, allocator: ByteBufferAllocator()), frames(2, count: 80_000))
        XCTAssertEqual(writer.memory.released, 0, "the first message is still in the ring")
        let third = try XCTUnwrap(writer.place(.gathered(try topicFrame(3, count: 80_000))))
        XCTAssertNil(writer.place(frames(4, count: 80_000)), "nothing was released")
        let borrowedThird = try XCTUnwrap(try reader.borrowTopicMessage(third, maximumMessageSize: limit))

        let (args, _) = try borrowed.places.decode(from: borrowed.bytes, codec: PickleCodec())
        XCTAssertTrue(args == [.tuple([.double(1), .bytes([UInt8](repeating: 1, count: 80_000))])], "decoded in place")
        borrowed.release()
        XCTAssertEqual(writer.memory.released, third.position, "up to the message still held")
        XCTAssertNotNil(writer.place(frames(4, count: 80_000)), "the first two places are free again")
        borrowedThird.release()
        XCTAssertEqual(writer.memory.released, third.position + UInt64(third.length))
    }

    func testAReferenceOutsideTheRingOrBackwardsIsAFramingError() throws {
        let writer = try LaneWriter(ringSize: 256 * 1024)
        var reader = try LaneReader(path: writer.path, cookie: writer.cookie, ringSize: 256 * 1024, largest: 1 << 20)
        let allocator = ByteBufferAllocator()
        let placed = try XCTUnwrap(writer.place(frames(7, count: 1000)))
        _ = try reader.take(placed, allocator: allocator)
        let bad = [
            SharedMemoryReference(position: 0, length: 10),  // before the lane's next byte
            SharedMemoryReference(position: 1000, length: 0),
            SharedMemoryReference(position: 256 * 1024 - 10, length: 100),  // across the ring's end
            SharedMemoryReference(position: 1000 + 256 * 1024, length: 10),  // a whole turn ahead
            SharedMemoryReference(position: 1000, length: UInt32.max),
        ]
        for reference in bad {
            XCTAssertThrowsError(try reader.take(reference, allocator: allocator), "\(reference)") { error in
                guard case FrameError.badSharedMemoryReference = error else { return XCTFail("\(error)") }
            }
        }
    }

    func testTheServerMapsOnlyTheSealedMemoryThatWasOffered() throws {
        let writer = try LaneWriter(ringSize: 256 * 1024)
        XCTAssertThrowsError(try LaneReader(path: writer.path, cookie: writer.cookie &+ 1, ringSize: 256 * 1024, largest: 1 << 20),
                             "another cookie")
        XCTAssertThrowsError(try LaneReader(path: writer.path, cookie: writer.cookie, ringSize: 128 * 1024, largest: 1 << 20),
                             "another size")
        XCTAssertThrowsError(try LaneReader(path: "/etc/passwd", cookie: writer.cookie, ringSize: 256 * 1024, largest: 1 << 20),
                             "not a descriptor path")
        XCTAssertThrowsError(try LaneReader(path: "/proc/self/fd/0", cookie: writer.cookie, ringSize: 256 * 1024, largest: 1 << 20),
                             "not /proc/PID/fd/FD")
        // A plain file of the right size and contents, but not sealed: a client could shrink
        // it under the server's mapping (a SIGBUS), so it is refused.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("lane-\(UUID().uuidString)")
        let copy = Data(bytes: writer.memory.base, count: writer.memory.mappedSize)
        try copy.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let handle = try FileHandle(forUpdating: file)
        defer { try? handle.close() }
        let path = "/proc/\(getpid())/fd/\(handle.fileDescriptor)"
        XCTAssertThrowsError(try LaneReader(path: path, cookie: writer.cookie, ringSize: 256 * 1024, largest: 1 << 20)) { error in
            XCTAssertTrue("\(error)".contains("sealed"), "\(error)")
        }
        XCTAssertNoThrow(try LaneReader(path: writer.path, cookie: writer.cookie, ringSize: 256 * 1024, largest: 1 << 20))
    }

    func testRosyPythonNodesAreNeverOfferedALane() {
        // Python rosy 0.8.3 names its nodes with uuid1 (version 1); this implementation with UUID() (version 4).
        let python = NodeID(name: "p", hostname: Host.name, uuid: UUID(uuidString: "6ba7b810-9dad-11d1-80b4-00c04fd430c8")!)
        XCTAssertFalse(SharedMemoryLane.mayOffer(to: python, localHostname: Host.name))
        XCTAssertTrue(SharedMemoryLane.mayOffer(to: NodeID(name: "s", hostname: Host.name), localHostname: Host.name))
        XCTAssertFalse(SharedMemoryLane.mayOffer(to: NodeID(name: "s", hostname: "elsewhere"), localHostname: Host.name))
    }

    /// Megabyte messages and calls between two nodes of this process go through the lane
    /// (counted), whole and in order among small ones, over Unix and TCP.
    func testLargeMessagesAndCallsBetweenSwiftNodesGoThroughTheLane() async throws {
        let mesh = InProcessMesh()
        for tcp in [false, true] {
            let sender = try await Node.start(name: "sender", options: .inProcess(mesh))
            let receiver = try await Node.start(name: "receiver-\(tcp)", options: .inProcess(mesh, tcp: tcp, unix: !tcp))
            let received = Collector<TopicMessage>()
            try await receiver.listen("bulk") { received.append($0) }
            try await receiver.addService("size") { .int(Int64($0.args.first?.bytesValue?.count ?? -1)) }
            _ = await sender.waitUntilListeners("bulk", count: 1)
            let messages: [[Value]] = (0..<30).map { index in
                let size = index % 3 == 2 ? 10 : (1 << 20) + index
                return [.int(Int64(index)), .string(String(repeating: String(UnicodeScalar(UInt8(65 + index % 26))), count: size))]
            }
            // The first large message offers the lane (and goes through the socket).
            try await sendOpeningTheLane(sender, messages[0])
            try await received.wait(for: 1)
            let placedBefore = SharedMemoryLane.framesPlaced.load(ordering: .relaxed)
            let gatheredBefore = SharedMemoryLane.framesGathered.load(ordering: .relaxed)
            let leftBefore = SharedMemoryLane.messagesLeftInLane.load(ordering: .relaxed)
            for args in messages.dropFirst() { try await sender.send("bulk", args: args) }
            try await received.wait(for: messages.count, timeout: .seconds(120))
            XCTAssertTrue(received.values.map(\.args) == messages, "tcp \(tcp): whole and in order")
            for n in 0..<5 {
                let answer = try await sender.call("size", .bytes([UInt8](repeating: 1, count: 2 << 20 + n)), timeout: .seconds(60))
                XCTAssertEqual(answer, .int(Int64(2 << 20 + n)))
            }
            // The 19 large messages after the first and the 5 requests; the small ones and
            // the answers go through the socket.
            XCTAssertEqual(SharedMemoryLane.framesPlaced.load(ordering: .relaxed) - placedBefore, 24, "tcp \(tcp): frames through the lane")
            // The messages went in with their strings copied straight into the lane, and were
            // decoded there; the requests were copied out.
            XCTAssertEqual(SharedMemoryLane.framesGathered.load(ordering: .relaxed) - gatheredBefore, 19, "tcp \(tcp): gathered")
            XCTAssertEqual(SharedMemoryLane.messagesLeftInLane.load(ordering: .relaxed) - leftBefore, 19, "tcp \(tcp): decoded in the lane")
            await sender.stop()
            await receiver.stop()
        }
    }

    /// Small messages sent faster than they are written make runs far longer than the
    /// lane's threshold in the outbox: those go through the socket as they are, and no lane
    /// is offered for them (the lane is for single large frames; a run of small ones gains
    /// nothing from it).
    func testRunsOfSmallMessagesStayOnTheSocket() async throws {
        let mesh = InProcessMesh()
        let sender = try await Node.start(name: "sender", options: .inProcess(mesh))
        let receiver = try await Node.start(name: "receiver", options: .inProcess(mesh))
        let received = Collector<Int64>()
        try await receiver.listen("small") { received.append($0.args.first?.intValue ?? -1) }
        _ = await sender.waitUntilListeners("small", count: 1)
        let openedBefore = SharedMemoryLane.lanesOpened.load(ordering: .relaxed)
        let placedBefore = SharedMemoryLane.framesPlaced.load(ordering: .relaxed)
        // 1 kB frames: a full outbox (100 messages) is a run of about 100 kB.
        let count = 10_000
        let filler = Value.string(String(repeating: "s", count: 1000))
        try await withTaskExecutorPreference(sender.taskExecutor) {
            for index in 0..<count { try await sender.send("small", .int(Int64(index)), filler) }
        }
        try await received.wait(for: count, timeout: .seconds(60))
        XCTAssertEqual(received.values, (0..<Int64(count)).map { $0 })
        XCTAssertEqual(SharedMemoryLane.lanesOpened.load(ordering: .relaxed) - openedBefore, 0, "no lane offered")
        XCTAssertEqual(SharedMemoryLane.framesPlaced.load(ordering: .relaxed) - placedBefore, 0, "nothing through a lane")
        await sender.stop()
        await receiver.stop()
    }

    /// A receiver with shared memory off refuses the offer: everything goes through the
    /// socket, and nothing is lost.
    func testARefusedLaneLeavesEverythingOnTheSocket() async throws {
        let mesh = InProcessMesh()
        let sender = try await Node.start(name: "sender", options: .inProcess(mesh))
        var options = NodeOptions.inProcess(mesh)
        options.sharedMemory = false
        let receiver = try await Node.start(name: "receiver", options: options)
        let received = Collector<TopicMessage>()
        try await receiver.listen("bulk") { received.append($0) }
        _ = await sender.waitUntilListeners("bulk", count: 1)
        let placedBefore = SharedMemoryLane.framesPlaced.load(ordering: .relaxed)
        let messages: [[Value]] = (0..<10).map { [.int(Int64($0)), .bytes([UInt8](repeating: UInt8($0), count: 1 << 20))] }
        for args in messages {
            try await sender.send("bulk", args: args)
            try await Task.sleep(for: .milliseconds(20))  // the offer's answer comes in between
        }
        try await received.wait(for: messages.count, timeout: .seconds(60))
        XCTAssertTrue(received.values.map(\.args) == messages)
        XCTAssertEqual(SharedMemoryLane.framesPlaced.load(ordering: .relaxed) - placedBefore, 0)
        await sender.stop()
        await receiver.stop()
    }

    /// A listener far slower than its sender: the ring fills, frames wait for room in
    /// order (the outbox waits behind them, as for a full socket), and every message arrives.
    /// Messages still in the lane when their sender has gone are delivered from it (the
    /// receiver's mapping outlives the connection), whole and in order.
    func testMessagesLeftInTheLaneOutliveTheirSender() async throws {
        let mesh = InProcessMesh()
        let sender = try await Node.start(name: "sender", options: .inProcess(mesh))
        let receiver = try await Node.start(name: "receiver", options: .inProcess(mesh))
        let received = Collector<TopicMessage>()
        let gate = Collector<Int>()
        try await receiver.listen("bulk") { message in
            // The first message waits until the sender has gone; the rest wait in the lane.
            if received.values.isEmpty { try? await gate.wait(for: 1, timeout: .seconds(60)) }
            received.append(message)
        }
        _ = await sender.waitUntilListeners("bulk", count: 1)
        let messages: [[Value]] = (0..<10).map { [.int(Int64($0)), .string(String(repeating: "x", count: 1 << 20))] }
        try await sendOpeningTheLane(sender, messages[0])
        let leftBefore = SharedMemoryLane.messagesLeftInLane.load(ordering: .relaxed)
        for args in messages.dropFirst() { try await sender.send("bulk", args: args) }
        await sender.stop()
        gate.append(1)
        try await received.wait(for: messages.count, timeout: .seconds(60))
        XCTAssertTrue(received.values.map(\.args) == messages, "whole and in order")
        XCTAssertEqual(SharedMemoryLane.messagesLeftInLane.load(ordering: .relaxed) - leftBefore, 9, "through the lane")
        await receiver.stop()
    }

    /// A codec that leaves no payload out (msgpack) still sends through the lane, as whole
    /// frames: nothing is gathered, and the receiver decodes in the lane all the same.
    func testACodecThatLeavesNothingOutSendsWholeFramesThroughTheLane() async throws {
        let mesh = InProcessMesh()
        func options() -> NodeOptions {  // a discovery of its own per node
            var options = NodeOptions.inProcess(mesh)
            options.codec = MsgpackCodec()
            return options
        }
        let sender = try await Node.start(name: "sender", options: options())
        let receiver = try await Node.start(name: "receiver", options: options())
        let received = Collector<TopicMessage>()
        try await receiver.listen("bulk") { received.append($0) }
        _ = await sender.waitUntilListeners("bulk", count: 1)
        let messages: [[Value]] = (0..<6).map { [.int(Int64($0)), .string(String(repeating: "m", count: 1 << 20))] }
        try await sendOpeningTheLane(sender, messages[0])
        let placedBefore = SharedMemoryLane.framesPlaced.load(ordering: .relaxed)
        let gatheredBefore = SharedMemoryLane.framesGathered.load(ordering: .relaxed)
        let leftBefore = SharedMemoryLane.messagesLeftInLane.load(ordering: .relaxed)
        for args in messages.dropFirst() { try await sender.send("bulk", args: args) }
        try await received.wait(for: messages.count, timeout: .seconds(60))
        XCTAssertTrue(received.values.map(\.args) == messages, "whole and in order")
        XCTAssertEqual(SharedMemoryLane.framesPlaced.load(ordering: .relaxed) - placedBefore, 5)
        XCTAssertEqual(SharedMemoryLane.framesGathered.load(ordering: .relaxed) - gatheredBefore, 0)
        XCTAssertEqual(SharedMemoryLane.messagesLeftInLane.load(ordering: .relaxed) - leftBefore, 5)
        await sender.stop()
        await receiver.stop()
    }

    func testASlowListenerFillsTheLaneAndLosesNothing() async throws {
        let mesh = InProcessMesh()
        let sender = try await Node.start(name: "sender", options: .inProcess(mesh))
        let receiver = try await Node.start(name: "receiver", options: .inProcess(mesh))
        let received = Collector<Int64>()
        try await receiver.listen("bulk") { message in
            try? await Task.sleep(for: .milliseconds(15))
            received.append(message.args.first?.intValue ?? -1)
        }
        _ = await sender.waitUntilListeners("bulk", count: 1)
        let count = 60  // 60 MB: four times the ring, and more than the receiver's inbox holds
        let heldBefore = SharedMemoryLane.framesHeld.load(ordering: .relaxed)
        for index in 0..<count {
            try await sender.send("bulk", .int(Int64(index)), .bytes([UInt8](repeating: 9, count: 1 << 20)))
        }
        try await received.wait(for: count, timeout: .seconds(120))
        XCTAssertEqual(received.values, (0..<Int64(count)).map { $0 })
        XCTAssertGreaterThan(SharedMemoryLane.framesHeld.load(ordering: .relaxed) - heldBefore, 0, "the ring was full at times")
        await sender.stop()
        await receiver.stop()
    }
}
