#if canImport(Glibc)
import Glibc
#endif
import Rosy
import RosyWire

/// The receiving node: counts topic messages and answers the `echo` and `result` services.
///
/// Topics: `warmup` (ignored), `t` (throughput), `lat` (latency: the first argument is the
/// tuple `(send time, filler)`). Services: `echo` and `echo_await` return their argument; `result` returns
/// `{delivered, seconds, p50_us, p99_us, rss_kb}` for the messages since the last call.
enum Responder {
    static func run(socket: SocketKind, options: NodeOptions) async throws {
        let tally = Tally()
        let node = try await Node.start(name: "swiftbench responder", options: options)

        try await node.listen("warmup") { _ in }
        try await node.listen(BenchTopic.throughput) { _ in tally.count() }
        try await node.listen(BenchTopic.latency) { message in
            let sent = message.args.first?.arrayValue?.first?.doubleValue ?? 0
            tally.count(latencyMicroseconds: (Measure.wallClockSeconds() - sent) * 1e6)
        }
        // `echo` does not await, so it answers inline as the request is read; `echo_await`
        // awaits (a call that never suspends), so it takes the path of handlers that do:
        // a task per call.
        try await node.addService("echo") { request in request.args.first ?? .none }
        try await node.addService("echo_await") { request in await passThrough(request.args.first ?? .none) }
        try await node.addService("result") { _ in
            let report = tally.takeReport()
            return [
                "delivered": .int(Int64(report.delivered)),
                "seconds": .double(report.seconds),
                "p50_us": .double(report.p50Microseconds),
                "p99_us": .double(report.p99Microseconds),
                "rss_kb": .int(Int64(Measure.residentKilobytes())),
                "cpu_s": .double(report.cpuSeconds),
                "ctx_switches": .int(Int64(report.contextSwitches)),
                "user_s": .double(report.userSeconds),
                "minflt": .int(Int64(report.minorFaults)),
            ]
        }
        print("swiftbench responder: ready")
        fflush(nil)  // every stream: `stdout` is not concurrency-safe in Swift 6
        // Runs until the session's SIGTERM; then the node leaves the mesh and closes its sockets.
        await node.forever()
    }
}

/// An async function that returns at once: it makes `echo_await`'s closure one that awaits.
private func passThrough(_ value: Value) async -> Value { value }
