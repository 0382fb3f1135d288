import Foundation
import NIOConcurrencyHelpers
import Rosy

/// What a soak node does, by the role named on its command line (see main.swift).
enum Role {
    /// Sends 1, 2, 3 ... on `topic`, `rate` times a second, once a listener is known.
    case talker(topic: String, rate: Double)
    /// Counts what arrives on `topic`: messages, the first and highest sequence number, and
    /// those that came out of order or twice.
    case listener(topic: String)
    /// Answers `service(n)` with `2 n`.
    case provider(service: String)
    /// Calls `service(n)`, one call at a time, `rate` times a second (10 s timeout), and
    /// counts answers, wrong answers and failures by their code; and the same for `flaky`
    /// (a service whose providers crash), its counts prefixed with `flaky_`.
    case caller(service: String, rate: Double, flaky: (service: String, rate: Double)?)
    /// Joins the mesh, listens to `topics` and serves `services`, then after a random
    /// lifetime ends with exit status 1 (`exit`) or SIGKILL (`kill`), without leaving.
    case crasher(topics: [String], services: [String], lifetime: ClosedRange<Double>, how: String)

    var name: String {
        switch self {
        case .talker: return "talker"
        case .listener: return "listener"
        case .provider: return "provider"
        case .caller: return "caller"
        case .crasher: return "crasher"
        }
    }

    /// Sets the node up, and returns the work that runs until SIGUSR1 or the stop (nil: none).
    func start(on node: Node, report: Report) async throws -> (@Sendable () async -> Void)? {
        switch self {
        case .talker(let topic, let rate):
            return {
                guard await node.waitForListener(topic, timeout: .seconds(120)) else { return }
                var sequence: Int64 = 0
                await Pacer(rate: rate).run {
                    sequence += 1
                    do {
                        try await node.send(topic, .int(sequence))
                        report.count("sent")
                    } catch where !Task.isCancelled {
                        report.count("send_errors")
                    }
                }
            }
        case .listener(let topic):
            let order = SequenceOrder()
            try await node.listen(topic) { message in
                guard case .int(let sequence)? = message.args.first else {
                    report.count("malformed")
                    return
                }
                let (first, previous, inOrder) = order.see(sequence)
                if previous > 0 && sequence > previous + 1 {
                    warn("\(topic): messages \(previous + 1)...\(sequence - 1) missing")
                }
                report.update { counts in
                    counts["received", default: 0] += 1
                    counts["first_seq"] = Int(first)
                    // Under the same lock as "received": two deliveries that overlap
                    // (a link replaced while the old one drains) cannot lower it.
                    counts["max_seq"] = max(counts["max_seq"] ?? 0, Int(sequence))
                    if !inOrder { counts["out_of_order", default: 0] += 1 }
                }
            }
            return nil
        case .provider(let service):
            try await node.addService(service) { request in
                guard case .int(let n)? = request.args.first else { throw SoakError("\(service) takes an int") }
                report.count("answered")
                return .int(2 * n)
            }
            return nil
        case .caller(let service, let rate, let flaky):
            return {
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await Self.call(service, rate: rate, on: node, report: report, prefix: "") }
                    if let flaky {
                        group.addTask {
                            await Self.call(flaky.service, rate: flaky.rate, on: node, report: report, prefix: "flaky_")
                        }
                    }
                }
            }
        case .crasher(let topics, let services, let lifetime, let how):
            for topic in topics { try await node.listen(topic) { _ in } }
            for service in services {
                try await node.addService(service) { request in
                    guard case .int(let n)? = request.args.first else { throw SoakError("\(service) takes an int") }
                    return .int(2 * n)
                }
            }
            return {
                try? await Task.sleep(for: .seconds(Double.random(in: lifetime)))
                if how == "kill" { kill(getpid(), SIGKILL) }
                exit(1)
            }
        }
    }
}

extension Role {
    /// Calls `service` once a provider is known, until the task is cancelled.
    static func call(_ service: String, rate: Double, on node: Node, report: Report, prefix: String) async {
        guard await node.waitForProvider(service, timeout: .seconds(120)) else { return }
        var n: Int64 = 0
        await Pacer(rate: rate).run {
            n += 1
            do {
                let answer = try await node.call(service, .int(n), timeout: .seconds(10))
                report.count(prefix + (answer == .int(2 * n) ? "answered" : "wrong"))
            } catch where Task.isCancelled {
                return  // stopped by SIGUSR1 or the node's stop: not a failure of the call
            } catch let error as ServiceCallError {
                // A stable pair's failure is news: say when it happened and why.
                if prefix.isEmpty { warn("call \(n): \(error)") }
                report.update { counts in
                    counts[prefix + "failed", default: 0] += 1
                    counts[prefix + "failed_\(error.code)", default: 0] += 1
                }
            } catch {
                if prefix.isEmpty { warn("call \(n): \(error)") }
                report.update { counts in
                    counts[prefix + "failed", default: 0] += 1
                    counts[prefix + "failed_\(type(of: error))", default: 0] += 1
                }
            }
        }
    }
}

/// The order of sequence numbers seen on a topic.
final class SequenceOrder: Sendable {
    private struct Seen {
        var first: Int64?
        var highest: Int64 = 0
    }

    private let seen = NIOLockedValueBox(Seen())

    /// Records `sequence`; returns the first seen, the highest seen before this one, and
    /// whether it came after every earlier one.
    func see(_ sequence: Int64) -> (first: Int64, previousHighest: Int64, inOrder: Bool) {
        seen.withLockedValue { seen in
            if seen.first == nil { seen.first = sequence }
            let previous = seen.highest
            seen.highest = max(seen.highest, sequence)
            return (seen.first ?? sequence, previous, sequence > previous)
        }
    }
}

/// A line on stderr, which rosy-launch keeps in the node's log with the time.
func warn(_ line: String) {
    FileHandle.standardError.write(Data("soak: \(line)\n".utf8))
}

struct SoakError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
