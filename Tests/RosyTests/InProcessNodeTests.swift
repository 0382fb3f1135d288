import Foundation
import NIOCore
@testable import Rosy
import RosyDiscovery
import RosyTestSupport
import RosyWire
import Synchronization
import XCTest

/// Nodes in one process, on real sockets, found through an in-process discovery.
final class InProcessNodeTests: XCTestCase {
    func testANodeReceivesItsOwnMessages() async throws {
        let mesh = InProcessMesh()
        try await Node.withNode(name: "solo", options: .inProcess(mesh)) { node in
            let received = Collector<TopicMessage>()
            try await node.listen("echo") { received.append($0) }
            XCTAssertTrue(node.hasListeners("echo"))
            try await node.send("echo", "hello", kwargs: ["name": "world"])
            try await received.wait(for: 1)
            XCTAssertEqual(received.values, [TopicMessage(topic: "echo", args: ["hello"], kwargs: ["name": "world"])])
        }
    }

    func testFanOutOverUnixAndTCP() async throws {
        let mesh = InProcessMesh()
        let sender = try await Node.start(name: "sender", options: .inProcess(mesh))
        let viaUnix = try await Node.start(name: "a", options: .inProcess(mesh))
        let viaTCP = try await Node.start(name: "b", options: .inProcess(mesh, tcp: true, unix: false))
        let a = Collector<TopicMessage>(), b = Collector<TopicMessage>()
        try await viaUnix.listen("news") { a.append($0) }
        try await viaTCP.listen("news") { b.append($0) }
        _ = await sender.waitUntilListeners("news", count: 2)
        for i in 0..<10 { try await sender.send("news", .int(Int64(i))) }
        try await a.wait(for: 10)
        try await b.wait(for: 10)
        XCTAssertEqual(a.values.map(\.args), (0..<10).map { [.int(Int64($0))] })
        XCTAssertEqual(b.values.map(\.args), (0..<10).map { [.int(Int64($0))] })
        for node in [sender, viaUnix, viaTCP] { await node.stop() }
    }

    func testSameNameNodesShareTheLoad() async throws {
        let mesh = InProcessMesh()
        let sender = try await Node.start(name: "sender", options: .inProcess(mesh))
        let workers = [try await Node.start(name: "worker", options: .inProcess(mesh)),
                       try await Node.start(name: "worker", options: .inProcess(mesh))]
        let other = try await Node.start(name: "logger", options: .inProcess(mesh))
        let counts = [Collector<Int>(), Collector<Int>()]
        let logged = Collector<Int>()
        for (index, worker) in workers.enumerated() {
            try await worker.listen("jobs") { _ in counts[index].append(1) }
        }
        try await other.listen("jobs") { _ in logged.append(1) }
        _ = await sender.waitUntilListeners("jobs", count: 3)
        for _ in 0..<20 { try await sender.send("jobs") }
        try await logged.wait(for: 20)
        try await Collector.waitForSum(counts, 20)
        // Least recently chosen: the two workers alternate.
        XCTAssertEqual(counts.map(\.count), [10, 10])
        for node in workers + [sender, other] { await node.stop() }
    }

    func testServiceCallsRunConcurrentlyAndAnswerOutOfOrder() async throws {
        try await withProviderAndCaller { provider, caller in
            let finished = Collector<Int64>()
            try await provider.addService("slow-echo") { request in
                let n = request.args.first?.intValue ?? 0
                // Later requests finish first.
                try await Task.sleep(for: .milliseconds(10 * (20 - n)))
                finished.append(n)
                return .int(n * 10)
            }
            let ready = await caller.waitForProvider("slow-echo", timeout: .seconds(30))
            XCTAssertTrue(ready)
            let results = try await withThrowingTaskGroup(of: (Int64, Value).self) { group in
                for n in Int64(0)..<20 {
                    group.addTask { (n, try await caller.call("slow-echo", .int(n))) }
                }
                var results: [Int64: Value] = [:]
                for try await (n, value) in group { results[n] = value }
                return results
            }
            for n in Int64(0)..<20 { XCTAssertEqual(results[n], .int(n * 10)) }
            XCTAssertNotEqual(finished.values, finished.values.sorted(), "responses should have come out of order")
        }
    }

    func testHandlersAnswerManyCallsWhileASlowCallWaits() async throws {
        try await withProviderAndCaller { provider, caller in
            // Every 100th call throws (each logs a line).
            @Sendable func half(_ request: ServiceRequest) throws -> Value {
                let n = request.args.first?.intValue ?? 0
                if n % 100 == 99 { throw TestError("Refused()") }
                return .int(n / 2)
            }
            @Sendable func returnsAtOnce() async {}
            // No await in the closure: the immediate overload, answered as the request is read.
            try await provider.addService("half") { request in try half(request) }
            // Awaits without suspending: one task answers a run of these (AwaitingRequests).
            try await provider.addService("half-await") { request in
                await returnsAtOnce()
                return try half(request)
            }
            let gate = Collector<Int>()
            try await provider.addService("gated") { _ in
                try await gate.wait(for: 1)
                return "opened"
            }
            let ready = await caller.waitForProvider("half", timeout: .seconds(30))
            XCTAssertTrue(ready)

            // A call held by a handler that awaits does not hold up the answers behind it on the
            // same connection, immediate or from handlers that await (the two kinds interleaved).
            let gated = Task { try await caller.call("gated") }
            let results = try await concurrentCalls(1000, failingWith: ServiceCallError.self) { n in
                try await caller.call(n % 2 == 0 ? "half" : "half-await", .int(n))
            }
            XCTAssertEqual(results.count, 1000)
            for (n, result) in results {
                switch result {
                case .success(let value):
                    XCTAssertTrue(n % 100 != 99, "\(n) should have failed")
                    XCTAssertEqual(value, .int(n / 2))
                case .failure(let error):
                    XCTAssertTrue(n % 100 == 99, "\(n): \(error)")
                    XCTAssertEqual(error.code, .remoteError)
                    XCTAssertEqual(error.message, "Refused()")
                }
            }
            gate.append(1)
            let opened = try await gated.value
            XCTAssertEqual(opened, "opened")
        }
    }

    func testACallerThatLeavesDoesNotHoldUpTheProvider() async throws {
        try await withProviderAndCaller { provider, caller in
            let started = Collector<Int>(), gate = Collector<Int>()
            try await provider.addService("gated") { _ in
                started.append(1)
                try await gate.wait(for: 1)
                return "late"
            }
            let ready = await caller.waitForProvider("gated", timeout: .seconds(30))
            XCTAssertTrue(ready)
            let calls = (0..<3).map { _ in Task { try? await caller.call("gated") } }
            try await started.wait(for: 3)
            XCTAssertEqual(provider.dispatcher.requestsInFlight.load(ordering: .relaxed), 3)
            await caller.stop()  // its connection closes with three calls unanswered
            gate.append(1)
            for call in calls { _ = await call.value }
            // The answers have nowhere to go: they are dropped and no longer count as in flight
            // (a stopping node waits for those).
            let deadline = ContinuousClock.now + .seconds(30)
            while provider.dispatcher.requestsInFlight.load(ordering: .relaxed) > 0 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            XCTAssertEqual(provider.dispatcher.requestsInFlight.load(ordering: .relaxed), 0)
        }
    }

    func testServiceErrorsAreTyped() async throws {
        try await withProviderAndCaller { provider, caller in
            try await provider.addService("refuse") { _ in throw TestError("Refused('no way')") }
            try await provider.addService("hang") { _ in try await Task.sleep(for: .seconds(3600)); return nil }
            let ready = await caller.waitForProvider("hang", timeout: .seconds(30))
            XCTAssertTrue(ready)

            await assertCallError(.remoteError, message: "Refused('no way')") { try await caller.call("refuse") }
            await assertCallError(.noProvider) { try await caller.call("nobody") }
            await assertCallError(.timeout) { try await caller.call("hang", timeout: .milliseconds(200)) }
            // The connection is still good after a timeout.
            await assertCallError(.remoteError) { try await caller.call("refuse") }

            // A provider that goes away fails the calls waiting on it at once.
            let pending = Task { try await caller.call("hang") }
            try await Task.sleep(for: .milliseconds(200))
            await provider.stop()
            await assertCallError(.connectionLost) { try await pending.value }
        }
    }

    func testTheBalancersForgetANodeThatLeaves() async throws {
        /// The default balancer, noting the nodes it is told to forget.
        final class Recording: ServiceLoadBalancer, TopicLoadBalancer {
            let picker = LeastRecentPicker()
            let forgotten = Collector<NodeID>()
            func chooseNode(_ nodes: [MeshNodeSpec], service: String) -> MeshNodeSpec? {
                picker.chooseNode(nodes, service: service)
            }
            func chooseNodes(_ nodes: [MeshNodeSpec], topic: String) -> [MeshNodeSpec] {
                picker.chooseNodes(nodes, topic: topic)
            }
            func forget(_ node: NodeID) {
                picker.forget(node)
                forgotten.append(node)
            }
        }
        let mesh = InProcessMesh()
        let balancer = Recording()
        var options = NodeOptions.inProcess(mesh)
        options.serviceLoadBalancer = balancer
        options.topicLoadBalancer = balancer
        let caller = try await Node.start(name: "caller", options: options)
        let provider = try await Node.start(name: "provider", options: .inProcess(mesh))
        try await provider.addService("echo") { request in request.args.first ?? .none }
        let ready = await caller.waitForProvider("echo", timeout: .seconds(30))
        XCTAssertTrue(ready)
        let echoed = try await caller.call("echo", 1)
        XCTAssertEqual(echoed, 1)
        XCTAssertTrue(balancer.forgotten.values.isEmpty)
        await provider.stop()
        // Once as the topic balancer, once as the service balancer.
        try await balancer.forgotten.wait(for: 2)
        XCTAssertEqual(balancer.forgotten.values, [provider.id, provider.id])
        await caller.stop()
    }

    func testAStoppingProviderAnswersTheCallsItIsHandling() async throws {
        try await withProviderAndCaller { provider, caller in
            let started = Collector<Int>()
            try await provider.addService("slow") { _ in
                started.append(1)
                try? await Task.sleep(for: .milliseconds(300))
                return "done"
            }
            let ready = await caller.waitForProvider("slow", timeout: .seconds(30))
            XCTAssertTrue(ready)
            let call = Task { try await caller.call("slow") }
            try await started.wait(for: 1)
            await provider.stop()
            let result = try await call.value
            XCTAssertEqual(result, "done")
        }
    }

    func testAStalledPeerNeverBlocksTheOthers() async throws {
        let mesh = InProcessMesh()
        // A peer that accepts connections and never reads from them.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stalled-\(UUID().uuidString.prefix(8)).sock").path
        let stalled = try RunningProcess(try TestSupport.python(), ["-c", """
            import socket, sys
            s = socket.socket(socket.AF_UNIX)
            s.bind(sys.argv[1])
            s.listen(5)
            print("ready", flush=True)
            held = []
            while True:
                held.append(s.accept()[0])
            """, path])
        defer { unlink(path) }
        try await stalled.waitForLine("ready")

        var options = NodeOptions.inProcess(mesh)
        options.topicLoadBalancer = .everyListener
        let sender = try await Node.start(name: "sender", options: options)
        let healthy = try await Node.start(name: "healthy", options: .inProcess(mesh))
        let fake = mesh.discovery()
        try await fake.register(MeshNodeSpec(
            id: NodeID(name: "stalled", hostname: sender.id.hostname),
            connectionSpecs: [.unix(path: path, host: sender.id.hostname)], topics: ["bulk"]))
        let received = Collector<Int64>()
        try await healthy.listen("bulk") { received.append($0.args.first?.intValue ?? -1) }
        let ready = await sender.waitUntilListeners("bulk", count: 2)
        XCTAssertTrue(ready)

        let filler = Value.bytes([UInt8](repeating: 1, count: 10_000))
        let count: Int64 = 20_000
        for i in Int64(0)..<count { try await sender.send("bulk", .int(i), filler) }
        try await received.wait(for: Int(count), timeout: .seconds(300))
        XCTAssertEqual(received.values, Array(0..<count), "the healthy listener gets everything, in order")
        await fake.unregister()
        await sender.stop()
        await healthy.stop()
    }

    func testHundredThousandMessagesArriveInOrder() async throws {
        let mesh = InProcessMesh()
        let sender = try await Node.start(name: "sender", options: .inProcess(mesh))
        let receiver = try await Node.start(name: "receiver", options: .inProcess(mesh))
        let received = Collector<Int64>()
        try await receiver.listen("count") { received.append($0.args.first?.intValue ?? -1) }
        let ready = await sender.waitForListener("count", timeout: .seconds(30))
        XCTAssertTrue(ready)
        for i in Int64(0)..<100_000 { try await sender.send("count", .int(i)) }
        try await received.wait(for: 100_000, timeout: .seconds(300))
        XCTAssertEqual(received.values, Array(0..<100_000))
        await sender.stop()
        await receiver.stop()
    }

    func testListenersGetMessagesInOrderOneAtATimeAndOutliveWhatTheyThrow() async throws {
        let mesh = InProcessMesh()
        let sender = try await Node.start(name: "sender", options: .inProcess(mesh))
        let receiver = try await Node.start(name: "receiver", options: .inProcess(mesh))
        let immediate = Collector<Int64>(), awaiting = Collector<Int64>()
        let inside = Atomic<Int>(0)
        // Without await, and with one that suspends now and then.
        try await receiver.listen("immediate") { message in
            let n = message.args.first?.intValue ?? -1
            if n == 13 { throw TestError("13") }  // logged; the next messages still arrive
            immediate.append(n)
        }
        // The next message waits until this one's listener returns.
        try await receiver.listen("awaiting") { message in
            let n = message.args.first?.intValue ?? -1
            XCTAssertEqual(inside.wrappingAdd(1, ordering: .relaxed).oldValue, 0, "one at a time")
            defer { inside.subtract(1, ordering: .relaxed) }
            if n % 100 == 0 { try await Task.sleep(for: .milliseconds(1)) }
            if n == 13 { throw TestError("13") }
            awaiting.append(n)
        }
        _ = await sender.waitUntilListeners("immediate", count: 1)
        _ = await sender.waitUntilListeners("awaiting", count: 1)
        for i in Int64(0)..<1000 {
            try await sender.send("immediate", .int(i))
            try await sender.send("awaiting", .int(i))
        }
        try await immediate.wait(for: 999)
        try await awaiting.wait(for: 999)
        let expected = (Int64(0)..<1000).filter { $0 != 13 }
        XCTAssertEqual(immediate.values, expected)
        XCTAssertEqual(awaiting.values, expected)
        await sender.stop()
        await receiver.stop()
    }

    func testSendingAndCallingFromTheNodesOwnExecutor() async throws {
        let mesh = InProcessMesh()
        let sender = try await Node.start(name: "sender", options: .inProcess(mesh))
        let receiver = try await Node.start(name: "receiver", options: .inProcess(mesh))
        let received = Collector<Int64>()
        try await receiver.listen("count") { received.append($0.args.first?.intValue ?? -1) }
        try await receiver.addService("double") { request in .int((request.args.first?.intValue ?? 0) * 2) }
        let ready = await sender.waitForListener("count", timeout: .seconds(30))
        let providing = await sender.waitForProvider("double", timeout: .seconds(30))
        XCTAssertTrue(ready && providing)
        let results = try await withTaskExecutorPreference(sender.taskExecutor) {
            // More than the outbox holds, with no suspension in between: the sender waits for
            // the drain that runs on its own thread.
            for i in Int64(0)..<20_000 { try await sender.send("count", .int(i)) }
            return try await withThrowingTaskGroup(of: Value.self) { group in
                for i in Int64(0)..<64 { group.addTask { try await sender.call("double", .int(i)) } }
                return try await group.reduce(into: [Value]()) { $0.append($1) }
            }
        }
        try await received.wait(for: 20_000, timeout: .seconds(300))
        XCTAssertEqual(received.values, Array(0..<20_000))
        XCTAssertEqual(Set(results.compactMap(\.intValue)), Set((0..<64).map { Int64($0) * 2 }))
        await sender.stop()
        await receiver.stop()
    }

    func testHandlesAndMessageSequence() async throws {
        let mesh = InProcessMesh()
        try await Node.withNode(name: "solo", options: .inProcess(mesh)) { node in
            let messages = try await node.messages(on: "seq")
            let topic = node.topic("seq")
            let ready = await topic.waitForListener(timeout: .seconds(10))
        XCTAssertTrue(ready)
            try await topic.send("one")
            try await topic.send("two")
            var seen: [Value] = []
            for await message in messages {
                seen += message.args
                if seen.count == 2 { break }
            }
            XCTAssertEqual(seen, ["one", "two"])

            try await node.addService("double") { .int(($0.args.first?.intValue ?? 0) * 2) }
            let double = node.service("double")
            XCTAssertTrue(double.hasProviders)
            let result = try await double(21)
            XCTAssertEqual(result, 42)
            await node.removeService("double")
            XCTAssertFalse(double.hasProviders)
        }
    }

    func testLimitsThrowAtTheCall() async throws {
        let mesh = InProcessMesh()
        try await Node.withNode(name: "solo", options: .inProcess(mesh)) { node in
            let long = String(repeating: "x", count: 256)
            do {
                try await node.send(long, "hello")
                XCTFail("expected an error")
            } catch let error as FrameError {
                XCTAssertEqual(error, .nameTooLong(long, bytes: 256))
            }
            do {
                _ = try await node.call("s", args: [Value](repeating: 1, count: 300))
                XCTFail("expected an error")
            } catch let error as FrameError {
                XCTAssertEqual(error, .tooManyArguments(count: 300))
            }
        }
    }

    func testARequestTheCodecRefusesFailsAloneAndTheOthersGoThrough() async throws {
        let mesh = InProcessMesh()
        func jsonOptions() -> NodeOptions {
            var options = NodeOptions.inProcess(mesh)
            options.codec = JSONCodec()
            return options
        }
        let provider = try await Node.start(name: "provider", options: jsonOptions())
        let caller = try await Node.start(name: "caller", options: jsonOptions())
        try await provider.addService("double") { .int(($0.args.first?.intValue ?? 0) * 2) }
        let ready = await caller.waitForProvider("double", timeout: .seconds(30))
        XCTAssertTrue(ready)
        // On the node's executor the requests are encoded straight into the batch that
        // leaves together: a refused one must leave the batch as it was.
        let outcomes = try await withTaskExecutorPreference(caller.taskExecutor) {
            // JSON has no bytes: every odd call is refused before it is sent.
            try await concurrentCalls(64, failingWith: CodecError.self) { n in
                try await caller.call("double", n % 2 == 0 ? .int(n) : .bytes([1]))
            }
        }
        XCTAssertEqual(outcomes.count, 64)
        for (n, outcome) in outcomes {
            switch outcome {
            case .success(let value): XCTAssertEqual(value, .int(n * 2), "call \(n)")
            case .failure(let error):
                XCTAssertTrue(n % 2 == 1, "call \(n): \(error)")
                XCTAssertEqual(error.codec, "json")
            }
        }
        // From a plain task too (encoded apart, then handed to the loop).
        do {
            _ = try await caller.call("double", .bytes([1]))
            XCTFail("expected a CodecError")
        } catch is CodecError {}
        let four = try await caller.call("double", 2)
        XCTAssertEqual(four, 4)
        await caller.stop()
        await provider.stop()
    }

    func testTheUnixSocketIsRemovedOnStopAndStaleSocketsNeverBlock() async throws {
        let environment = ProcessInfo.processInfo.environment
        let directory = environment["XDG_RUNTIME_DIR"].map { URL(fileURLWithPath: $0).appendingPathComponent("rosy") }
            ?? URL(fileURLWithPath: "/tmp/rosy-\(getuid())")
        let sockets = directory.appendingPathComponent("sockets")
        try FileManager.default.createDirectory(at: sockets, withIntermediateDirectories: true)
        // A socket file whose owner died: bound, never unlinked.
        let stale = sockets.appendingPathComponent("\(UUID().uuidString.lowercased()).sock").path
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(stale.utf8))
            raw[stale.utf8.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(bound, 0)
        close(fd)
        XCTAssertTrue(FileManager.default.fileExists(atPath: stale))

        let node = try await Node.start(name: "solo", options: .inProcess(InProcessMesh()))
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale), "a stale socket is swept away")
        var own: String?
        for case .unix(let path, _) in node.meshNodes.flatMap(\.connectionSpecs) { own = path }
        let path = try XCTUnwrap(own)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
        await node.stop()
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "the socket is removed on stop")
    }

    func testABadFrameClosesThatConnectionAndTheNodeGoesOn() async throws {
        let mesh = InProcessMesh()
        try await Node.withNode(name: "solo", options: .inProcess(mesh)) { node in
            let received = Collector<TopicMessage>()
            try await node.listen("ok") { received.append($0) }
            var path = ""
            for case .unix(let socketPath, _) in node.meshNodes.flatMap(\.connectionSpecs) { path = socketPath }
            // An unknown prefix, then an oversized length: the server closes each connection.
            let script = """
            import socket, sys
            for payload in (b"x" + b"\\0" * 10, b"t\\x01a\\x01\\xff\\xff\\xff\\x7f"):
                s = socket.socket(socket.AF_UNIX)
                s.connect(sys.argv[1])
                s.sendall(payload)
                s.settimeout(30)
                print("closed" if s.recv(10) == b"" else "open")
            """
            let result = try TestSupport.runPython(script, [path])
            XCTAssertEqual(result.stdout, "closed\nclosed\n", result.stderr)
            try await node.send("ok", "still fine")
            try await received.wait(for: 1)
            XCTAssertEqual(received.values.first?.args, ["still fine"])
        }
    }

    func testRequestsBeforeABadFrameAreAnsweredThenTheConnectionCloses() async throws {
        let mesh = InProcessMesh()
        try await Node.withNode(name: "solo", options: .inProcess(mesh)) { node in
            try await node.addService("double") { .int(($0.args.first?.intValue ?? 0) * 2) }
            var path = ""
            for case .unix(let socketPath, _) in node.meshNodes.flatMap(\.connectionSpecs) { path = socketPath }
            var request = ByteBuffer()
            try FrameEncoder.writeServiceRequest(
                id: 7, service: "double", args: [.int(21)], kwargs: [:], codec: PickleCodec(), into: &request)
            // One write: a good request, then an unknown frame prefix.
            let script = """
            import pickle, socket, struct, sys
            s = socket.socket(socket.AF_UNIX)
            s.connect(sys.argv[1])
            s.sendall(bytes.fromhex(sys.argv[2]) + b"x" + b"\\0" * 10)
            s.settimeout(30)
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            rid, status, length = struct.unpack("<HBI", data[:7])
            print(rid, status, pickle.loads(data[7:7 + length]), len(data) == 7 + length)
            """
            let result = try TestSupport.runPython(script, [path, request.readableBytesView.map { String(format: "%02x", $0) }.joined()])
            XCTAssertEqual(result.stdout, "7 0 42 True\n", result.stderr)
            let answer = try await node.call("double", 5)
            XCTAssertEqual(answer, 10, "the node goes on")
        }
    }

    func testABadResponseFailsItsCallsAndTheNextCallConnectsAgain() async throws {
        let mesh = InProcessMesh()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("badpeer-\(UUID().uuidString.prefix(8)).sock").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        // A fake provider: its first connection answers with an unknown status byte, its second
        // with a proper result (42).
        let server = try RunningProcess(try TestSupport.python(), ["-c", """
            import pickle, socket, struct, sys
            srv = socket.socket(socket.AF_UNIX)
            srv.bind(sys.argv[1])
            srv.listen(4)
            print("ready", flush=True)
            for answer in ("bad", "good"):
                conn, _ = srv.accept()
                request = conn.recv(65536)
                rid = request[1:3]
                if answer == "bad":
                    conn.sendall(rid + b"\\x42")
                else:
                    body = pickle.dumps(42)
                    conn.sendall(rid + b"\\x00" + struct.pack("<I", len(body)) + body)
                print(answer, "answered", flush=True)
                conn.recv(10)  # until the caller closes
                conn.close()
            """, path])
        try await server.waitForLine("ready")
        let fake = mesh.discovery()
        try await fake.register(MeshNodeSpec(
            id: NodeID(name: "fake", hostname: "fake-host"), connectionSpecs: [.unix(path: path, host: hostName())],
            services: ["answer"]))
        try await Node.withNode(name: "caller", options: .inProcess(mesh)) { node in
            let ready = await node.waitForProvider("answer", timeout: .seconds(30))
            XCTAssertTrue(ready)
            // From the node's executor: the second call meets the first one's connection,
            // kept for it (CallRoute), closed now, and connects again.
            try await withTaskExecutorPreference(node.taskExecutor) {
                await assertCallError(.connectionLost) { try await node.call("answer") }
                let answer = try await node.call("answer", timeout: .seconds(30))
                XCTAssertEqual(answer, 42)
            }
        }
        await fake.unregister()
    }

    func testCallsFromTheNodesExecutorFollowTheMesh() async throws {
        let mesh = InProcessMesh()
        let caller = try await Node.start(name: "caller", options: .inProcess(mesh))
        func provider(_ name: String) async throws -> Node {
            let node = try await Node.start(name: "worker", options: .inProcess(mesh))
            try await node.addService("who") { _ in .string(name) }
            try await node.addService("echo") { request in request.args.first ?? .none }
            return node
        }
        func waitForProviders(_ count: Int) async throws {
            let deadline = ContinuousClock.now + .seconds(30)
            while caller.meshNodes.filter({ $0.services.contains("who") }).count != count {
                if ContinuousClock.now >= deadline { throw TestError("\(count) providers never showed") }
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        /// Who answers 20 calls; half way, calls to another service take the route.
        func askTwenty() async throws -> [String: Int] {
            try await withTaskExecutorPreference(caller.taskExecutor) {
                var answers: [String: Int] = [:]
                for i in Int64(0)..<20 {
                    answers[try await caller.call("who").stringValue ?? "?", default: 0] += 1
                    if i == 9 {
                        for j in Int64(0)..<2 {
                            let echo = try await caller.call("echo", .int(j))
                            XCTAssertEqual(echo, .int(j))
                        }
                    }
                }
                return answers
            }
        }
        let a = try await provider("a"), b = try await provider("b")
        try await waitForProviders(2)
        let both = try await askTwenty()
        XCTAssertEqual(both, ["a": 10, "b": 10], "least recently chosen: in turn")
        await a.stop()
        try await waitForProviders(1)
        let afterA = try await askTwenty()
        XCTAssertEqual(afterA, ["b": 20], "a left: no call goes its way")
        let c = try await provider("c")
        try await waitForProviders(2)
        let answers = try await askTwenty()
        XCTAssertEqual(answers.values.reduce(0, +), 20)
        XCTAssertGreaterThanOrEqual(answers["c"] ?? 0, 9, "the newcomer shares the load: \(answers)")
        for node in [caller, b, c] { await node.stop() }
    }

    private func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private func assertCallError(
        _ code: ServiceCallError.Code, message: String? = nil,
        file: StaticString = #filePath, line: UInt = #line, _ body: () async throws -> Value
    ) async {
        do {
            let value = try await body()
            XCTFail("expected \(code), got \(value)", file: file, line: line)
        } catch let error as ServiceCallError {
            XCTAssertEqual(error.code, code, "\(error)", file: file, line: line)
            if let message { XCTAssertEqual(error.message, message, file: file, line: line) }
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
        }
    }
}

extension Node {
    /// Waits until `count` nodes listen to `topic` (in-process tests).
    func waitUntilListeners(_ topic: String, count: Int) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while meshNodes.filter({ $0.topics.contains(topic) }).count < count {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }
}

extension Collector where Element == Int {
    static func waitForSum(_ collectors: [Collector<Int>], _ total: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while collectors.map(\.count).reduce(0, +) < total {
            if ContinuousClock.now >= deadline { throw TestError("timed out waiting for \(total) messages") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

final class CodableNodeTests: XCTestCase {
    struct Pose: Codable, Equatable, Sendable {
        var x: Double
        var y: Double
        var label: String?
    }

    func testCodableValuesTravelAsDicts() async throws {
        var options = NodeOptions.inProcess(InProcessMesh())
        options.codec = PickleCodec()
        try await Node.withNode(name: "solo", options: options) { node in
            let received = Collector<TopicMessage>()
            try await node.listen("pose") { received.append($0) }
            try await node.send("pose", encoding: Pose(x: 1, y: 2.5, label: "home"))
            try await received.wait(for: 1)
            XCTAssertEqual(try received.values[0].decode(Pose.self), Pose(x: 1, y: 2.5, label: "home"))

            try await node.addService("mirror") { request in
                let pose = try request.decode(Pose.self)
                return try Value(encoding: Pose(x: -pose.x, y: -pose.y, label: pose.label))
            }
            let mirrored = try await node.call("mirror", encoding: Pose(x: 3, y: 4, label: nil), as: Pose.self)
            XCTAssertEqual(mirrored, Pose(x: -3, y: -4, label: nil))
        }
    }
}
