import Foundation
import Logging
import Rosy
import RosyDiscovery
import RosyTestSupport
import RosyWire
import Synchronization
import XCTest

/// Large topic messages over real sockets: whole and in order, whatever pieces the socket
/// hands over, and a frame over the receiver's limit closes only that connection.
final class LargeMessageTests: XCTestCase {
    /// Megabyte messages among small ones, over Unix and TCP; the last one is large, so a
    /// receiver that waited for more bytes than a frame still needs would never see it.
    func testLargeAndSmallMessagesArriveWholeAndInOrder() async throws {
        let mesh = InProcessMesh()
        let sender = try await Node.start(name: "sender", options: .inProcess(mesh))
        let viaUnix = try await Node.start(name: "a", options: .inProcess(mesh))
        let viaTCP = try await Node.start(name: "b", options: .inProcess(mesh, tcp: true, unix: false))
        let a = Collector<TopicMessage>(), b = Collector<TopicMessage>()
        try await viaUnix.listen("bulk") { a.append($0) }
        try await viaTCP.listen("bulk") { b.append($0) }
        _ = await sender.waitUntilListeners("bulk", count: 2)

        let sizes = [1 << 20, 10, 3 << 20, 0, 200_000, 1 << 20, 1 << 20, 1000, 700_000]
        let messages: [[Value]] = sizes.enumerated().map { index, size in
            // ASCII and two-byte characters, different in every message.
            let unit = index % 2 == 0 ? String(UnicodeScalar(UInt8(65 + index))) : "é"
            return [.int(Int64(index)), .string(String(repeating: unit, count: size / unit.utf8.count))]
        }
        for args in messages { try await sender.send("bulk", args: args) }
        try await a.wait(for: messages.count, timeout: .seconds(120))
        try await b.wait(for: messages.count, timeout: .seconds(120))
        XCTAssertTrue(a.values.map(\.args) == messages, "over Unix")
        XCTAssertTrue(b.values.map(\.args) == messages, "over TCP")
        for node in [sender, viaUnix, viaTCP] { await node.stop() }
    }

    /// Megabyte requests and answers among small ones, many calls at once, from a plain task
    /// and from the caller's executor (where small requests are batched and large ones go
    /// in buffers of their own): every call gets its own answer, whole.
    func testLargeAndSmallServiceCallsAtOnce() async throws {
        let mesh = InProcessMesh()
        let provider = try await Node.start(name: "provider", options: .inProcess(mesh))
        let caller = try await Node.start(name: "caller", options: .inProcess(mesh))
        try await provider.addService("echo") { $0.args.first ?? .none }
        let ready = await caller.waitForProvider("echo", timeout: .seconds(30))
        XCTAssertTrue(ready)
        @Sendable func payload(_ n: Int64) -> Value {
            let size = n % 3 == 0 ? (1 << 20) + Int(n) : Int(n) * 10
            return .bytes([UInt8](repeating: UInt8(truncatingIfNeeded: n), count: size))
        }
        for onExecutor in [false, true] {
            let run = { try await concurrentCalls(30, failingWith: ServiceCallError.self) { n in
                try await caller.call("echo", payload(n), timeout: .seconds(120))
            } }
            let results = onExecutor ? try await withTaskExecutorPreference(caller.taskExecutor, operation: run) : try await run()
            XCTAssertEqual(results.count, 30)
            for (n, result) in results {
                guard case .success(let value) = result else { return XCTFail("call \(n): \(result)") }
                XCTAssertTrue(value == payload(n), "call \(n) on executor \(onExecutor): \(value.bytesValue?.count ?? -1) bytes")
            }
        }
        await caller.stop()
        await provider.stop()
    }

    /// A peer that writes a 1 MB frame a kilobyte at a time (as Python rosy would frame it):
    /// the node reads it in many small pieces and gets it whole, over TCP and Unix.
    func testAFrameWrittenInSmallPiecesArrivesWhole() async throws {
        let mesh = InProcessMesh()
        try await Node.withNode(name: "solo", options: .inProcess(mesh, tcp: true, unix: true)) { node in
            let received = Collector<TopicMessage>()
            try await node.listen("big") { received.append($0) }
            var targets: [String] = []
            for spec in node.meshNodes.flatMap(\.connectionSpecs) {
                switch spec {
                case .unix(let path, _): targets.append("unix:" + path)
                case .ip(let host, let port, _): targets.append("tcp:\(host):\(port)")
                }
            }
            XCTAssertEqual(targets.count, 2)
            let script = """
            import pickle, socket, struct, sys, time
            def frame(index):
                args = [pickle.dumps(index, protocol=5), pickle.dumps('Z' * 1_000_000 + '€' * 1000, protocol=5)]
                tail = pickle.dumps('after', protocol=5)
                topic = b'big'
                return (b't' + bytes([len(topic)]) + topic + bytes([len(args)])
                        + b''.join(struct.pack('<I', len(data)) + data for data in args)
                        + bytes([1, 4]) + b'name' + struct.pack('<I', len(tail)) + tail)
            for index, target in enumerate(sys.argv[1:]):
                kind, _, address = target.partition(':')
                if kind == 'unix':
                    s = socket.socket(socket.AF_UNIX)
                    s.connect(address)
                else:
                    host, _, port = address.rpartition(':')
                    s = socket.create_connection((host, int(port)))
                    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                payload = frame(index)
                for start in range(0, len(payload), 1024):
                    s.sendall(payload[start:start + 1024])
                    if start % (64 * 1024) == 0:
                        time.sleep(0.001)
                time.sleep(0.2)
                s.close()
            print('sent')
            """
            let result = try TestSupport.runPython(script, targets, timeout: 120)
            XCTAssertEqual(result.stdout, "sent\n", result.stderr)
            try await received.wait(for: 2, timeout: .seconds(60))
            let expected = String(repeating: "Z", count: 1_000_000) + String(repeating: "€", count: 1000)
            XCTAssertEqual(received.values.map { $0.args.first?.intValue }, [0, 1])
            for message in received.values {
                XCTAssertTrue(message.args.last == .string(expected), "the megabyte string arrived whole")
                XCTAssertEqual(message.kwargs, ["name": "after"])
            }
        }
    }

    /// A frame over the receiver's limit closes that connection with one error line; the
    /// sender's next messages go through a new connection.
    func testAFrameOverTheLimitClosesThatConnectionWithOneLogLine() async throws {
        let mesh = InProcessMesh()
        let lines = LogLines()
        var receiverOptions = NodeOptions.inProcess(mesh, tcp: true, unix: false)
        receiverOptions.maxFrameSize = 100_000
        receiverOptions.logger = Logger(label: "receiver") { _ in lines }
        let receiver = try await Node.start(name: "receiver", options: receiverOptions)
        let sender = try await Node.start(name: "sender", options: .inProcess(mesh))
        let received = Collector<TopicMessage>()
        try await receiver.listen("t") { received.append($0) }
        _ = await sender.waitUntilListeners("t", count: 1)

        try await sender.send("t", .string(String(repeating: "x", count: 300_000)))
        let deadline = ContinuousClock.now + .seconds(60)
        while received.count == 0 {
            guard ContinuousClock.now < deadline else { throw TestError("no message after the oversized one") }
            try await sender.send("t", "small")
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTAssertTrue(received.values.allSatisfy { $0.args == ["small"] }, "the oversized message is not delivered")
        let closing = lines.errors.filter { $0.contains("Closing connection") }
        XCTAssertEqual(closing.count, 1, "\(lines.errors)")
        XCTAssertTrue(closing.first?.contains("100000") == true, "names the limit: \(closing)")
        await sender.stop()
        await receiver.stop()
    }
}

/// Keeps what a logger writes at error level and above.
final class LogLines: LogHandler, Sendable {
    private let lines = Mutex<[String]>([])
    var errors: [String] { lines.withLock { $0 } }

    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .error }
        set {}
    }
    subscript(metadataKey _: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        let text = "\(event.message)"
        lines.withLock { $0.append(text) }
    }
}
