import Foundation
import Rosy
import RosyDiscovery
import RosyTestSupport
import RosyWire
import XCTest

/// Nodes in separate processes (the demo executables) and in this one, found through the
/// default local discovery, each test in a domain of its own.
final class MultiProcessTests: XCTestCase {
    private var domain = ""

    override func setUp() {
        domain = "test-\(UUID().uuidString.prefix(8))"
    }

    private func start(_ product: String, name: String? = nil) throws -> RunningProcess {
        var arguments = ["--domain-id", domain]
        if let name { arguments += ["--name", name] }
        return try RunningProcess.product(product, arguments)
    }

    private func node(_ name: String) async throws -> Node {
        try await Node.start(name: name, domainID: domain)
    }

    func testTopicDemosPrintWhatRosysDemosPrint() async throws {
        let listener = try start("topic_listener")
        try await listener.waitForLine("Listening...")
        let sender = try start("topic_sender")
        let status = try await sender.waitForExit()
        XCTAssertEqual(status, 0, sender.standardError)
        try await listener.waitForLine("Received \"hello world\" on topic=some-topic")
        XCTAssertEqual(listener.output, ["Listening...", "Received \"hello world\" on topic=some-topic"])
        listener.signal(SIGTERM)
        let listenerStatus = try await listener.waitForExit()
        XCTAssertEqual(listenerStatus, 0, "SIGTERM stops the node cleanly: \(listener.standardError)")
    }

    func testServiceDemosPrintWhatRosysDemosPrint() async throws {
        let provider = try start("service_provider")
        try await provider.waitForLine("Started service...")
        let caller = try start("service_caller")
        let status = try await caller.waitForExit()
        XCTAssertEqual(status, 0, caller.standardError)
        XCTAssertEqual(caller.output, ["Calculating 2 * 2...", "Result: 4"])
        provider.signal(SIGTERM)
        try await provider.waitForExit()
    }

    func testFanOutToSeveralListenerProcesses() async throws {
        let listeners = try ["a", "b", "c"].map { try start("topic_listener", name: $0) }
        for listener in listeners { try await listener.waitForLine("Listening...") }
        let node = try await node("sender")
        let ready = await node.waitUntilListeners("some-topic", count: 3)
        XCTAssertTrue(ready)
        try await node.send("some-topic", "hello", kwargs: ["name": "everyone"])
        for listener in listeners {
            try await listener.waitForLine("Received \"hello everyone\" on topic=some-topic")
        }
        await node.stop()
    }

    func testSameNameListenerProcessesShareTheLoad() async throws {
        let workers = try (0..<2).map { _ in try start("topic_listener", name: "worker") }
        for worker in workers { try await worker.waitForLine("Listening...") }
        let node = try await node("sender")
        let ready = await node.waitUntilListeners("some-topic", count: 2)
        XCTAssertTrue(ready)
        for i in 0..<10 { try await node.send("some-topic", "job", kwargs: ["name": .string("\(i)")]) }
        let deadline = ContinuousClock.now + .seconds(60)
        func received(_ process: RunningProcess) -> Int { process.output.filter { $0.hasPrefix("Received") }.count }
        while workers.map(received).reduce(0, +) < 10 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        // Least recently chosen among the same name: the two alternate.
        XCTAssertEqual(workers.map(received), [5, 5])
        await node.stop()
    }

    func testHundredThousandMessagesArriveInOrderAcrossProcesses() async throws {
        let listener = try start("topic_listener")
        try await listener.waitForLine("Listening...")
        let node = try await node("sender")
        let ready = await node.waitForListener("some-topic", timeout: .seconds(30))
        XCTAssertTrue(ready)
        let count = 100_000
        for i in 0..<count { try await node.send("some-topic", "n", kwargs: ["name": .string("\(i)")]) }
        try await listener.waitForLine(timeout: .seconds(300)) { $0 == "Received \"n \(count - 1)\" on topic=some-topic" }
        let numbers = listener.output.dropFirst().map { line in
            Int(line.dropFirst("Received \"n ".count).prefix { $0 != "\"" }) ?? -1
        }
        XCTAssertEqual(numbers.count, count)
        XCTAssertTrue(numbers.elementsEqual(0..<count), "messages arrived out of order or some were lost")
        await node.stop()
    }

    func testConcurrentCallsAndErrorResponsesAcrossProcesses() async throws {
        let provider = try start("service_provider")
        try await provider.waitForLine("Started service...")
        let node = try await node("caller")
        let ready = await node.waitForProvider("multiply", timeout: .seconds(30))
        XCTAssertTrue(ready)
        let products = try await withThrowingTaskGroup(of: (Int64, Value).self) { group in
            for a in Int64(0)..<200 { group.addTask { (a, try await node.call("multiply", .int(a), 3)) } }
            var products: [Int64: Value] = [:]
            for try await (a, product) in group { products[a] = product }
            return products
        }
        for a in Int64(0)..<200 { XCTAssertEqual(products[a], .int(a * 3)) }
        do {
            _ = try await node.call("multiply", "two")
            XCTFail("expected a remote error")
        } catch let error as ServiceCallError {
            XCTAssertEqual(error.code, .remoteError)
            XCTAssertTrue(error.message.contains("multiply() takes 2 arguments"), error.message)
        }
        await node.stop()
        provider.signal(SIGTERM)
    }

    func testAPeerRestartedUnderTheSameNameIsReconnectedTo() async throws {
        let node = try await node("caller")
        var provider = try start("service_provider")
        try await provider.waitForLine("Started service...")
        let first = await node.waitForProvider("multiply", timeout: .seconds(30))
        XCTAssertTrue(first)
        let before = try await node.call("multiply", 2, 3, timeout: .seconds(30))
        XCTAssertEqual(before, 6)

        provider.signal(SIGKILL)
        try await provider.waitForExit()
        provider = try start("service_provider")
        try await provider.waitForLine("Started service...")
        // The old instance leaves the topology; the new one (same name, new id) is called.
        var after: Value?
        let deadline = ContinuousClock.now + .seconds(60)
        while after == nil && ContinuousClock.now < deadline {
            after = try? await node.call("multiply", 3, 4, timeout: .seconds(10))
            if after == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        XCTAssertEqual(after, 12)
        await node.stop()
        provider.signal(SIGTERM)
    }

    func testAPeerKilledWithSIGKILLLeavesTheTopology() async throws {
        let node = try await node("observer")
        let listener = try start("topic_listener")
        try await listener.waitForLine("Listening...")
        let joined = await node.waitForListener("some-topic", timeout: .seconds(30))
        XCTAssertTrue(joined)
        try await node.send("some-topic", "hello", kwargs: ["name": "there"])
        try await listener.waitForLine("Received \"hello there\" on topic=some-topic")

        listener.signal(SIGKILL)
        try await listener.waitForExit()
        let deadline = ContinuousClock.now + .seconds(30)
        while node.hasListeners("some-topic") && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        XCTAssertFalse(node.hasListeners("some-topic"))
        XCTAssertFalse(node.meshNodes.contains { $0.id.name == "topic_listener" })
        // Sending to nobody is fine.
        try await node.send("some-topic", "hello")
        await node.stop()
    }

    /// `ROSY_BUSY_POLL_US` in a node's environment (a launch file's `env`) makes its event
    /// loop busy-poll: over a stream of calls made one at a time, the provider's threads
    /// barely sleep, where they sleep about once per call without it.
    func testANodeStartedWithBusyPollingInItsEnvironmentDoesNotSleepBetweenCalls() async throws {
        let calls = 300
        // A window far longer than a call takes, even on a loaded machine.
        let spinning = try await providerSleeps(during: calls, environment: ["ROSY_BUSY_POLL_US": "20000"])
        let sleeping = try await providerSleeps(during: calls, environment: [:])
        XCTAssertLessThan(spinning, calls / 10, "the provider slept between calls")
        XCTAssertGreaterThan(sleeping, calls / 2, "the count did not see the provider sleep")
    }

    /// How many times the threads of a `service_provider` process slept while this process
    /// called its `multiply` `calls` times, one at a time.
    private func providerSleeps(during calls: Int, environment: [String: String]) async throws -> Int {
        let provider = try RunningProcess.product("service_provider", ["--domain-id", domain], environment: environment)
        try await provider.waitForLine("Started service...")
        let node = try await node("caller")
        let ready = await node.waitForProvider("multiply", timeout: .seconds(30))
        XCTAssertTrue(ready)
        let sleeps = try await withTaskExecutorPreference(node.taskExecutor) {
            for n in 0..<50 { _ = try await node.call("multiply", .int(Int64(n)), 2) }  // warm up
            let before = voluntaryContextSwitches(ofProcess: provider.pid)
            for n in 0..<calls {
                let product = try await node.call("multiply", .int(Int64(n)), 2)
                XCTAssertEqual(product, .int(Int64(2 * n)))
            }
            return voluntaryContextSwitches(ofProcess: provider.pid) - before
        }
        await node.stop()
        provider.signal(SIGTERM)
        try await provider.waitForExit()
        return sleeps
    }
}
