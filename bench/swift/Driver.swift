import NIOCore
import Rosy
import RosyWire

/// The sending and calling node: runs every case against the responder and prints one
/// JSON line per case. Counting happens at the responder (`result` service).
struct Driver {
    var socket: SocketKind
    var options: NodeOptions
    var seconds: Double
    var latencySeconds: Double
    var rate: Double
    var sizes: [Int]
    /// Which of throughput, latency and service to run.
    var cases: Set<String>
    /// When set, only the long full-speed run of this many seconds (RSS over time).
    var longRunSeconds: Double?

    /// How long to let the outbox drain before asking the responder what it got.
    static let drainSeconds = 1.5

    func run() async throws {
        let node = try await Node.start(name: "swiftbench driver", options: options)
        guard await node.waitForListener(BenchTopic.throughput, timeout: .seconds(60)),
              await node.waitForProvider("result", timeout: .seconds(60))
        else { throw BenchError("the responder did not show up within 60 s") }

        let atRest = try await result(node)
        emit(["case": .text("rss_at_rest"), "socket": .text(socket.rawValue),
              "rss_kb": .int(atRest.rssKilobytes), "driver_rss_kb": .int(Measure.residentKilobytes())])

        if let longRunSeconds {
            try await longRun(node, seconds: longRunSeconds)
        } else {
            // The sending task runs on the node's own executor, as Python rosy's sender runs
            // on its node's asyncio loop; the `_plain` cases send from a plain task instead.
            if cases.contains("throughput") {
                for size in sizes { try await throughput(node, size: size, onNodeExecutor: true) }
                for size in sizes where size <= 1000 { try await throughput(node, size: size, onNodeExecutor: false) }
            }
            if cases.contains("latency") {
                try await latency(node, onNodeExecutor: true)
                try await latency(node, onNodeExecutor: false)
            }
            if cases.contains("service") {
                for inflight in [1, 64] { try await serviceCalls(node, inflight: inflight, onNodeExecutor: true) }
                for inflight in [1, 64] { try await serviceCalls(node, inflight: inflight, onNodeExecutor: false) }
                for inflight in [1, 64] { try await serviceCalls(node, inflight: inflight, onNodeExecutor: true, handlerAwaits: true) }
            }
            // One service case alone, for profiling: service1 or service64 (callers on the
            // node's executor), service1await or service64await (the handler that awaits).
            for inflight in [1, 64] {
                if cases.contains("service\(inflight)") {
                    try await serviceCalls(node, inflight: inflight, onNodeExecutor: true)
                }
                if cases.contains("service\(inflight)await") {
                    try await serviceCalls(node, inflight: inflight, onNodeExecutor: true, handlerAwaits: true)
                }
            }
        }
        await node.stop()
    }

    // MARK: cases

    private func throughput(_ node: Node, size: Int, onNodeExecutor: Bool) async throws {
        try await warmUp(node)
        _ = try await result(node)  // the responder counts (and uses CPU) from here on
        let before = Measure.processUsage()
        try await flood(node, size: size, seconds: seconds, onNodeExecutor: onNodeExecutor)
        try await Task.sleep(for: .seconds(Self.drainSeconds))
        let got = try await result(node)
        let after = Measure.processUsage()
        let perSecond = got.seconds > 0 ? Double(got.delivered - 1) / got.seconds : 0
        let delivered = Double(max(1, got.delivered))
        emit(["case": .text(onNodeExecutor ? "throughput" : "throughput_plain"), "socket": .text(socket.rawValue), "size": .int(size),
              "delivered": .int(got.delivered), "seconds": .number(got.seconds),
              "msgs_per_s": .number(perSecond), "mb_per_s": .number(perSecond * Double(size) / 1e6),
              "rss_kb": .int(got.rssKilobytes), "driver_rss_kb": .int(Measure.residentKilobytes()),
              "recv_cpu_us_per_msg": .number(got.cpuSeconds * 1e6 / delivered),
              "send_cpu_us_per_msg": .number((after.cpuSeconds - before.cpuSeconds) * 1e6 / delivered),
              "recv_ctx_per_kmsg": .number(Double(got.contextSwitches) * 1000 / delivered),
              "send_ctx_per_kmsg": .number(Double(after.contextSwitches - before.contextSwitches) * 1000 / delivered),
              "recv_user_us_per_msg": .number(got.userSeconds * 1e6 / delivered),
              "send_user_us_per_msg": .number((after.userSeconds - before.userSeconds) * 1e6 / delivered),
              "recv_minflt_per_msg": .number(Double(got.minorFaults) / delivered),
              "send_minflt_per_msg": .number(Double(after.minorFaults - before.minorFaults) / delivered)])
    }

    /// One message every 1/`rate` s, stamped with the time and sent. The sending task runs
    /// on the node's executor throughout and sleeps on its loop's timer, as Python rosy's
    /// sender stamps, sends and sleeps on its asyncio loop: one thread wakes per message.
    /// The `_plain` case sleeps (`Task.sleep`), stamps and sends in a plain task, so its
    /// latency also holds the hop to the node's loop (a thread wake-up).
    private func latency(_ node: Node, onNodeExecutor: Bool) async throws {
        let count = Int(rate * latencySeconds)
        let step = Int64(1e9 / rate)
        let sendStamped = { try await node.send(BenchTopic.latency, .tuple([.double(Measure.wallClockSeconds()), ""])) }
        if onNodeExecutor {
            try await withTaskExecutorPreference(node.taskExecutor) {
                var next = NIODeadline.now()
                for _ in 0..<count {
                    next = next + .nanoseconds(step)
                    try await node.eventLoop.scheduleTask(deadline: next) {}.futureResult.get()
                    try await sendStamped()
                }
            }
        } else {
            let clock = ContinuousClock()
            var next = clock.now
            for _ in 0..<count {
                next = next.advanced(by: .nanoseconds(step))
                try await clock.sleep(until: next, tolerance: .zero)
                try await sendStamped()
            }
        }
        try await Task.sleep(for: .seconds(Self.drainSeconds))
        let got = try await result(node)
        emit(["case": .text(onNodeExecutor ? "latency" : "latency_plain"), "socket": .text(socket.rawValue), "size": .int(0),
              "rate": .number(rate), "delivered": .int(got.delivered),
              "p50_us": .number(got.p50Microseconds), "p99_us": .number(got.p99Microseconds)])
    }

    /// `inflight` callers call `echo` (or `echo_await`, whose handler awaits) for `seconds`.
    private func serviceCalls(_ node: Node, inflight: Int, onNodeExecutor: Bool, handlerAwaits: Bool = false) async throws {
        let service = handlerAwaits ? "echo_await" : "echo"
        let name = handlerAwaits ? "service_await" : onNodeExecutor ? "service" : "service_plain"
        _ = try await result(node)  // the responder's CPU count starts here
        let before = Measure.processUsage()
        let start = Measure.monotonicSeconds()
        let end = start + seconds
        let done = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<inflight {
                group.addTask(executorPreference: onNodeExecutor ? node.taskExecutor : nil) {
                    var calls = 0
                    while Measure.monotonicSeconds() < end {
                        _ = try await node.call(service, 0)
                        calls += 1
                    }
                    return calls
                }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = Measure.monotonicSeconds() - start
        let after = Measure.processUsage()
        let got = try await result(node)
        let calls = Double(max(1, done))
        emit(["case": .text(name), "socket": .text(socket.rawValue), "inflight": .int(inflight),
              "calls": .int(done), "seconds": .number(elapsed),
              "calls_per_s": .number(Double(done) / elapsed),
              "recv_cpu_us_per_call": .number(got.cpuSeconds * 1e6 / calls),
              "send_cpu_us_per_call": .number((after.cpuSeconds - before.cpuSeconds) * 1e6 / calls),
              "recv_ctx_per_call": .number(Double(got.contextSwitches) / calls),
              "send_ctx_per_call": .number(Double(after.contextSwitches - before.contextSwitches) / calls)])
    }

    /// Full speed with 0 B messages for `seconds`, sampling both nodes' RSS every 10 s.
    private func longRun(_ node: Node, seconds: Double) async throws {
        let start = Measure.monotonicSeconds()
        var elapsed = 0.0
        while elapsed < seconds {
            try await flood(node, size: 0, seconds: min(10, seconds - elapsed))
            elapsed = Measure.monotonicSeconds() - start
            let got = try await result(node)
            let perSecond = got.seconds > 0 ? Double(got.delivered - 1) / got.seconds : 0
            emit(["case": .text("rss_long"), "socket": .text(socket.rawValue),
                  "elapsed_s": .number(elapsed), "msgs_per_s": .number(perSecond),
                  "rss_kb": .int(got.rssKilobytes), "driver_rss_kb": .int(Measure.residentKilobytes())])
        }
    }

    // MARK: helpers

    /// As rosy speedtest's sender (after its second of warm-up): `(time, 'A' * size)` as
    /// fast as the node accepts them.
    private func warmUp(_ node: Node) async throws {
        let end = Measure.monotonicSeconds() + 1
        while Measure.monotonicSeconds() < end { try await node.send("warmup") }
    }

    private func flood(_ node: Node, size: Int, seconds: Double, onNodeExecutor: Bool = true) async throws {
        let filler = Value.string(String(repeating: "A", count: size))
        let end = Measure.monotonicSeconds() + seconds
        try await withTaskExecutorPreference(onNodeExecutor ? node.taskExecutor : nil) {
            while Measure.monotonicSeconds() < end {
                try await node.send(BenchTopic.throughput, .tuple([.double(Measure.wallClockSeconds()), filler]))
            }
        }
    }

    private struct Result {
        var delivered: Int
        var seconds: Double
        var p50Microseconds: Double
        var p99Microseconds: Double
        var rssKilobytes: Int
        var cpuSeconds: Double
        var contextSwitches: Int
        var userSeconds: Double
        var minorFaults: Int
    }

    private func result(_ node: Node) async throws -> Result {
        let reply = try await node.call("result")
        let fields = reply.dictValue ?? [:]
        func number(_ key: String) -> Double { fields[.string(key)]?.doubleValue ?? 0 }
        return Result(
            delivered: Int(number("delivered")),
            seconds: number("seconds"),
            p50Microseconds: number("p50_us"),
            p99Microseconds: number("p99_us"),
            rssKilobytes: Int(number("rss_kb")),
            cpuSeconds: number("cpu_s"),
            contextSwitches: Int(number("ctx_switches")),
            userSeconds: number("user_s"),
            minorFaults: Int(number("minflt"))
        )
    }
}

/// A benchmark that could not run, with the reason.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
