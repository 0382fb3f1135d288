import Foundation
import Logging
import NIOCore
import Rosy
import RosyTestSupport
import RosyWire
import XCTest

/// Lies from a raw client on a real node's Unix socket: frames that claim more than
/// `maxFrameSize`, data that claims huge strings, lists or maps, data nested deeper than the
/// codecs allow, and a pickle that would run `os.system`. Each is refused with a logged
/// reason and nothing allocated for the claim; the node goes on serving its other peers.
final class HostileInputTests: XCTestCase {
    /// A raw client in Python: for each hex payload (a line of stdin), a new connection sends it and
    /// prints "closed" when the node closes it, else the bytes the node answered (hex) after
    /// a while. Python writes the bytes so that the test does not use the decoder it tests.
    static let rawClient = """
        import socket, sys
        for payload in sys.stdin.read().split():
            s = socket.socket(socket.AF_UNIX)
            s.connect(sys.argv[1])
            s.sendall(bytes.fromhex(payload))
            s.settimeout(3)
            got = b""
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        print("closed" if not got else "answered-then-closed " + got.hex(), flush=True)
                        break
                    got += chunk
            except socket.timeout:
                print("open " + got.hex(), flush=True)
            s.close()
        """

    /// A topic frame on `topic` with one data item of `claimed` bytes (by its header) of which `data` is sent.
    static func topicFrame(_ topic: String, item data: [UInt8], claimed: UInt32? = nil) -> [UInt8] {
        let length = claimed ?? UInt32(data.count)
        return [FramePrefix.topicMessage, UInt8(topic.utf8.count)] + Array(topic.utf8) + [1]
            + withUnsafeBytes(of: length.littleEndian, Array.init) + data + [0]
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static func unixPath(of node: Node) throws -> String {
        for spec in node.meshNodes where spec.id == node.id {
            for case .unix(let path, _) in spec.connectionSpecs { return path }
        }
        throw TestError("the node has no Unix socket")
    }

    /// Runs the raw client on `node` with `payloads`; one line per payload.
    static func send(_ payloads: [[UInt8]], to node: Node) throws -> [String] {
        let input = payloads.map(hex).joined(separator: "\n")
        let result = try TestSupport.runPython(rawClient, [try unixPath(of: node)], input: Data(input.utf8), timeout: 120)
        guard result.status == 0 else { throw TestError("raw client: \(result.stderr)") }
        return result.stdout.split(separator: "\n").map(String.init)
    }

    /// A node of `codec` with a listener on "ok" and a service "double", its error log kept.
    func startNode(_ mesh: InProcessMesh, codec: any MessageCodec, lines: LogLines) async throws -> (Node, Collector<TopicMessage>) {
        var options = NodeOptions.inProcess(mesh)
        options.codec = codec
        options.logger = Logger(label: "target") { _ in lines }
        let node = try await Node.start(name: "target-\(codec.name)", options: options)
        let received = Collector<TopicMessage>()
        try await node.listen("ok") { received.append($0) }
        try await node.addService("double") { .int(($0.args.first?.intValue ?? 0) * 2) }
        return (node, received)
    }

    /// A peer node sends and calls: the target still serves it.
    func assertServes(_ target: Node, received: Collector<TopicMessage>, from peer: Node,
                      file: StaticString = #filePath, line: UInt = #line) async throws {
        let before = received.count
        _ = await peer.waitUntilListeners("ok", count: 1)
        try await peer.send("ok", "still served")
        try await received.wait(for: before + 1)
        XCTAssertEqual(received.values.last?.args, ["still served"], file: file, line: line)
        let answer = try await peer.call("double", 21, timeout: .seconds(30))
        XCTAssertEqual(answer, 42, file: file, line: line)
    }

    /// Frames that claim 4 GiB, just over 64 MiB, and 100 MiB in a service request: each
    /// connection is closed at once, with one error line naming the limit, while only the
    /// header has arrived (nothing is reserved for the claim); a peer is served throughout.
    func testFramesThatClaimMoreThanMaxFrameSizeCloseTheirConnection() async throws {
        XCTAssertEqual(NodeOptions().maxFrameSize, 64 * 1024 * 1024)
        let mesh = InProcessMesh()
        let lines = LogLines()
        let (target, received) = try await startNode(mesh, codec: PickleCodec(), lines: lines)
        let peer = try await Node.start(name: "peer", options: .inProcess(mesh))
        try await assertServes(target, received: received, from: peer)

        let overLimit = UInt32(64 * 1024 * 1024 + 1)
        let request: [UInt8] = [FramePrefix.serviceRequest, 7, 0, 6] + Array("double".utf8) + [1]
            + withUnsafeBytes(of: UInt32(100 << 20).littleEndian, Array.init) + [0x80, 5]
        let lies = [
            Self.topicFrame("ok", item: [0x80, 5, 0x4B], claimed: .max),
            Self.topicFrame("ok", item: [0x80, 5], claimed: overLimit),
            request,
        ]
        XCTAssertEqual(try Self.send(lies, to: target), ["closed", "closed", "closed"])
        let closing = lines.errors.filter { $0.contains("Closing connection") }
        XCTAssertEqual(closing.count, lies.count, "\(lines.errors)")
        XCTAssertTrue(closing.allSatisfy { $0.contains("\(64 * 1024 * 1024)") }, "names the limit: \(closing)")
        XCTAssertTrue(received.values.allSatisfy { $0.args == ["still served"] }, "no lie is delivered")
        try await assertServes(target, received: received, from: peer)
        await peer.stop()
        await target.stop()
    }

    /// Data items that lie inside well-formed frames: a pickle string and bytes that claim
    /// 2^62 bytes, a pickle that expands through its memo to 10^12 list items, lists nested
    /// 100,000 deep (pickle, JSON, msgpack), a msgpack map of 2^31 entries. Each closes its
    /// connection with a logged reason (a good message after it on that connection is not
    /// delivered either: the peer is not trusted any more), and the peer's are served.
    func testDataThatLiesIsRefusedAndTheNodeGoesOn() async throws {
        let python = try TestSupport.python()
        let expanding = try TestSupport.run(python, ["-c", """
            import pickle, sys
            a = [0] * 1000; b = [a] * 1000; c = [b] * 1000; d = [c] * 1000
            sys.stdout.write(pickle.dumps(d, protocol=5).hex())
            """])
        XCTAssertEqual(expanding.status, 0, expanding.stderr)
        let huge = withUnsafeBytes(of: (UInt64(1) << 62).littleEndian, Array.init)
        let depth = 100_000
        let lies: [(any MessageCodec, [[UInt8]])] = [
            (PickleCodec(), [
                [0x80, 5, 0x8D] + huge + Array("abc".utf8) + [0x2E],  // BINUNICODE8 of 2^62 bytes
                [0x80, 5, 0x8E] + huge + [1, 2, 3, 0x2E],             // BINBYTES8 of 2^62 bytes
                try XCTUnwrap(hexBytes(expanding.stdout)),             // 10^12 items through the memo
                [0x80, 5] + Array(repeating: 0x5D, count: depth) + Array(repeating: 0x61, count: depth - 1) + [0x2E],
            ]),
            (JSONCodec(), [Array(repeating: UInt8(ascii: "["), count: depth) + Array(repeating: UInt8(ascii: "]"), count: depth)]),
            (MsgpackCodec(), [
                [0xDF, 0x80, 0, 0, 0, 0xC0, 0xC0],                    // map of 2^31 entries
                [0xDD, 0xFF, 0xFF, 0xFF, 0xFF, 0xC0],                 // array of 2^32 - 1 items
                Array(repeating: 0x91, count: depth) + [0xC0],        // 100,000 nested arrays
            ]),
        ]
        let mesh = InProcessMesh()
        for (codec, items) in lies {
            let lines = LogLines()
            let (target, received) = try await startNode(mesh, codec: codec, lines: lines)
            var peerOptions = NodeOptions.inProcess(mesh)
            peerOptions.codec = codec
            let peer = try await Node.start(name: "peer-\(codec.name)", options: peerOptions)
            var good = ByteBuffer()
            try codec.encode("after the lie", into: &good)
            // A connection per lie: the lie, then a good message.
            let streams = items.map { Self.topicFrame("ok", item: $0) + Self.topicFrame("ok", item: Array(good.readableBytesView)) }
            XCTAssertEqual(try Self.send(streams, to: target), Array(repeating: "closed", count: items.count), codec.name)
            let closing = lines.errors.filter { $0.contains("Closing a connection") && $0.contains("could not be decoded") }
            XCTAssertEqual(closing.count, items.count, "\(codec.name): one line per lie: \(lines.errors)")
            try await assertServes(target, received: received, from: peer)
            XCTAssertEqual(received.values.map(\.args), [["still served"]], "\(codec.name): nothing of the lying connections is delivered")
            await peer.stop()
            await target.stop()
        }
    }

    /// The classic pickle exploit, written by Python's pickle: REDUCE of os.system. Sent as a
    /// topic message and as a service call's argument, it is refused (logged, naming the
    /// global), nothing runs (the file it would touch does not appear), and the node goes on.
    func testAPickleThatNamesOsSystemIsRefusedAndNothingRuns() async throws {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("rosy-pwned-\(UUID().uuidString.prefix(8))").path
        let exploit = try TestSupport.runPython("""
            import os, pickle, sys
            class Exploit:
                def __reduce__(self):
                    return (os.system, ("touch " + sys.argv[1],))
            sys.stdout.write(pickle.dumps(Exploit()).hex())
            """, [marker])
        XCTAssertEqual(exploit.status, 0, exploit.stderr)
        let payload = try XCTUnwrap(hexBytes(exploit.stdout))
        XCTAssertTrue(String(decoding: payload, as: UTF8.self).contains("system"), "the pickle names os.system")

        let mesh = InProcessMesh()
        let lines = LogLines()
        let (target, received) = try await startNode(mesh, codec: PickleCodec(), lines: lines)
        let peer = try await Node.start(name: "peer", options: .inProcess(mesh))
        let request: [UInt8] = [FramePrefix.serviceRequest, 9, 0, 6] + Array("double".utf8) + [1]
            + withUnsafeBytes(of: UInt32(payload.count).littleEndian, Array.init) + payload + [0]
        let answers = try Self.send([Self.topicFrame("ok", item: payload), request], to: target)
        XCTAssertEqual(answers.first, "closed", "the topic message closes its connection")
        // The call is answered with an error response: id 9, status 0xEE, the reason.
        let response = try XCTUnwrap(answers.last.flatMap { hexBytes(String($0.dropFirst("open ".count))) })
        XCTAssertEqual(Array(response.prefix(3)), [9, 0, ResponseStatus.failure], "\(answers)")
        XCTAssertTrue(String(decoding: response, as: UTF8.self).contains("not plain data"), "\(answers)")

        try await assertServes(target, received: received, from: peer)
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "os.system did not run")
        XCTAssertEqual(received.values.map(\.args), [["still served"]], "the exploit is not delivered")
        let refused = lines.errors.filter { $0.contains("system") && $0.contains("refused") }
        XCTAssertEqual(refused.count, 2, "the topic message and the call are logged: \(lines.errors)")
        await peer.stop()
        await target.stop()
    }
}

/// Bytes from hex text (surrounding whitespace ignored); nil if it is not hex.
func hexBytes(_ text: String) -> [UInt8]? {
    let digits = Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
    guard digits.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(digits.count / 2)
    for index in stride(from: 0, to: digits.count, by: 2) {
        guard let byte = UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16) else { return nil }
        bytes.append(byte)
    }
    return bytes
}
