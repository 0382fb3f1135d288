// rosy-bench-throughput: one sender, one receiver on this host; counts messages delivered
// to the receiver's listener and prints messages/s and bytes/s.
//
//   rosy-bench-throughput [--size BYTES] [--count N] [--outbox N] [--in-process]
//
// Two processes (this one sends, a child receives) found through the default discovery;
// with --in-process both nodes live in this process (an in-memory discovery).
import Foundation
import Rosy
import RosyDiscovery
import RosyWire
import Synchronization

/// Prints a line straight to stdout (no buffering, so a reader sees it at once).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func option(_ name: String, default value: Int) -> Int {
    let args = CommandLine.arguments
    guard let index = args.firstIndex(of: name), index + 1 < args.count, let parsed = Int(args[index + 1]) else { return value }
    return parsed
}
func option(_ name: String) -> String? {
    let args = CommandLine.arguments
    guard let index = args.firstIndex(of: name), index + 1 < args.count else { return nil }
    return args[index + 1]
}

let size = option("--size", default: 0)
let count = option("--count", default: size >= 1_000_000 ? 5_000 : 1_000_000)
let payload = Value.bytes([UInt8](repeating: 0x41, count: size))

/// Counts deliveries (one atomic add each); the clock is read at the first and at `stop`.
final class Counter: Sendable {
    let count = Atomic<Int>(0)
    let first = Mutex<ContinuousClock.Instant?>(nil)
    let last = Mutex<ContinuousClock.Instant?>(nil)
    func hit() {
        if count.wrappingAdd(1, ordering: .relaxed).oldValue == 0 { first.withLock { $0 = .now } }
    }
    func finish() { last.withLock { $0 = .now } }
}

func report(_ counter: Counter) -> String {
    let n = counter.count.load(ordering: .relaxed)
    guard let first = counter.first.withLock({ $0 }), let last = counter.last.withLock({ $0 }), n > 1 else {
        return "received \(n) messages"
    }
    let seconds = Double((last - first).components.attoseconds) / 1e18 + Double((last - first).components.seconds)
    let rate = Double(n - 1) / seconds
    return String(format: "size=%d B: %d messages in %.3f s: %.0f msgs/s, %.1f MB/s",
                  size, n, seconds, rate, rate * Double(size) / 1e6)
}

func receive(domain: String, options: NodeOptions) async throws {
    let node = try await Node.start(name: "bench-receiver", domainID: domain, options: options)
    let counter = Counter()
    let done = Mutex<CheckedContinuation<Void, Never>?>(nil)
    try await node.listen("t") { _ in counter.hit() }
    try await node.listen("stop") { _ in
        counter.finish()
        done.withLock { $0 }?.resume()
    }
    say("ready")
    await withCheckedContinuation { continuation in done.withLock { $0 = continuation } }
    say(report(counter))
    await node.stop()
}

func send(domain: String, options: NodeOptions) async throws {
    let node = try await Node.start(name: "bench-sender", domainID: domain, options: options)
    guard await node.waitForListener("stop", timeout: .seconds(30)) else { fatalError("no receiver") }
    for _ in 0..<count { try await node.send("t", payload) }
    try await node.send("stop")
    await node.stop()
}

if CommandLine.arguments.contains("--receiver") {
    try await receive(domain: option("--domain-id") ?? "bench", options: NodeOptions())
} else if CommandLine.arguments.contains("--in-process") {
    let mesh = InMemoryMesh()
    var receiverOptions = NodeOptions(); receiverOptions.discovery = mesh.discovery(); receiverOptions.allowTCPConnections = false
    var senderOptions = NodeOptions(); senderOptions.outboxCapacity = option("--outbox", default: 100); senderOptions.discovery = mesh.discovery(); senderOptions.allowTCPConnections = false
    async let receiving: Void = receive(domain: "bench", options: receiverOptions)
    try await send(domain: "bench", options: senderOptions)
    try await receiving
} else {
    let domain = "bench-\(getpid())"
    let child = Process()
    child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    child.arguments = ["--receiver", "--domain-id", domain, "--size", "\(size)"]
    try child.run()
    var options = NodeOptions()
    options.outboxCapacity = option("--outbox", default: 100)
    try await send(domain: domain, options: options)
    child.waitUntilExit()
}

/// Nodes of one process finding each other in memory.
final class InMemoryMesh: Sendable {
    let members = Mutex<[(MeshNodeSpec, InMemoryDiscovery)]>([])
    func discovery() -> InMemoryDiscovery { InMemoryDiscovery(mesh: self) }
}

final class InMemoryDiscovery: Discovery {
    let events: AsyncStream<MeshEvent>
    let continuation: AsyncStream<MeshEvent>.Continuation
    let mesh: InMemoryMesh
    init(mesh: InMemoryMesh) {
        self.mesh = mesh
        (events, continuation) = AsyncStream.makeStream(of: MeshEvent.self)
    }
    func register(_ spec: MeshNodeSpec) async throws {
        let others = mesh.members.withLock { members in
            defer { members.append((spec, self)) }
            return members
        }
        for (otherSpec, other) in others {
            continuation.yield(.upserted(otherSpec))
            other.continuation.yield(.upserted(spec))
        }
    }
    func update(_ spec: MeshNodeSpec) async throws {
        let others = mesh.members.withLock { members in
            members = members.map { $0.1 === self ? (spec, self) : $0 }
            return members.filter { $0.1 !== self }
        }
        for (_, other) in others { other.continuation.yield(.upserted(spec)) }
    }
    func unregister() async { continuation.finish() }
}
