import Foundation
import OrderedCollections
import Rosy
import RosyWire
import Synchronization

/// `rosy bag record`: writes every message of the topics to a file until Ctrl+C or SIGTERM.
///
/// MCAP chunks are written every second (and when they reach 1 MiB), so a recording killed
/// with SIGKILL keeps all but its last second; a stopped recording gets its summary.
struct BagRecorder {
    var common: CommonOptions
    var name: String
    var topics: [String]
    var path: String
    var format: RecordingFormat
    var compression: MCAPCompression = .none
    var printDots: Bool

    func run() async throws {
        let sink = RecordingSink(writer: try makeRecordingWriter(path: path, format: format, topics: topics,
                                                                 compression: compression))
        let node: Node
        do {
            node = try await NodeSession.start(name: name, common: common)
        } catch {
            sink.finish()
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        say("Recording topics to \"\(path)\":")
        for topic in topics { say("- \(topic.pythonQuoted)") }
        let printDots = printDots
        for topic in topics {
            try await node.listen(topic) { message in
                let recorded = RecordedMessage(time: nanosecondsNow(), topic: message.topic, args: message.args,
                                               kwargs: message.kwargs)
                if sink.append(recorded), printDots {
                    say(".", terminator: "")
                }
            }
        }
        let flusher = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                sink.flush()
            }
        }
        await node.forever()  // until SIGINT or SIGTERM; stops the node
        flusher.cancel()
        let (count, failure) = sink.finish()
        say("\nRecording stopped.")
        if let failure { throw CLIError("writing \(path) failed: \(failure)") }
        if count == 0 {
            say("No messages recorded.")
            try? FileManager.default.removeItem(atPath: path)
        } else {
            say("Recorded \(count) messages to \"\(path)\".")
        }
    }
}

/// The recording file, shared by the listeners of every topic: one message at a time.
final class RecordingSink: Sendable {
    /// Only ever touched under the mutex, hence sendable.
    private struct State: @unchecked Sendable {
        var writer: (any RecordingWriter)?
        var count = 0
        var failure: (any Error)?
    }

    private let state: Mutex<State>

    init(writer: any RecordingWriter) {
        state = Mutex(State(writer: writer))
    }

    /// Appends a message; false once finished or after a write error.
    func append(_ message: RecordedMessage) -> Bool {
        state.withLock { state in
            guard let writer = state.writer, state.failure == nil else { return false }
            do {
                try writer.append(message)
                state.count += 1
                return true
            } catch {
                state.failure = error
                return false
            }
        }
    }

    func flush() {
        state.withLock { state in
            guard state.failure == nil else { return }
            do { try state.writer?.flush() } catch { state.failure = error }
        }
    }

    /// Completes the file; later appends are dropped.
    @discardableResult
    func finish() -> (count: Int, failure: (any Error)?) {
        state.withLock { state in
            if let writer = state.writer {
                do { try writer.finish() } catch { state.failure = state.failure ?? error }
                state.writer = nil
            }
            return (state.count, state.failure)
        }
    }
}

/// `rosy bag play`: sends a recording's messages again, keeping their relative timing.
struct BagPlayer {
    var common: CommonOptions
    var name: String
    var path: String
    var rate: Double
    var immediate: Bool
    var topics: Set<String>?
    var loop: Bool
    var log: Bool
    var logArgs: Bool
    var waitForListeners: Double

    func run() async throws {
        let recording = try Recording(path: path)
        let messages = recording.messages.filter { topics?.contains($0.topic) ?? true }
        let node = try await NodeSession.start(name: name, common: common)
        do {
            try await Interruption.run { [self] in
                try await waitForTheListeners(node, topics: Set(messages.map(\.topic)))
                say("Playing back messages from \"\(path)\"...")
                repeat {
                    try await playOnce(messages, node: node)
                } while loop && !messages.isEmpty
            }
        } catch {
            await node.stop()
            throw error
        }
        await node.stop()  // sends what is still queued first
    }

    /// Discovery takes a moment: wait (up to the limit) until each topic has a listener.
    private func waitForTheListeners(_ node: Node, topics: Set<String>) async throws {
        let deadline = ContinuousClock.now + .seconds(waitForListeners)
        while ContinuousClock.now < deadline, !topics.allSatisfy({ node.hasListeners($0) }) {
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    private func playOnce(_ messages: [RecordedMessage], node: Node) async throws {
        guard let first = messages.first else { return }
        let start = ContinuousClock.now
        for message in messages {
            if !immediate {
                let offset = (Double(message.time) - Double(first.time)) / 1e9 / rate
                let due = start + .seconds(max(0, offset))
                if due > ContinuousClock.now { try await Task.sleep(until: due, clock: .continuous) }
            }
            try Task.checkCancellation()
            try await node.send(message.topic, args: message.args, kwargs: message.kwargs)
            if log {
                let time = LocalDateTime(nanosecondsSinceEpoch: message.time).pythonDescription
                var text = "[\(time)] topic=\(message.topic.pythonQuoted)\n"
                if logArgs {
                    text += argsAndKwargsText(args: message.args, kwargs: message.kwargs) + "\n"
                }
                say(text, terminator: "")
            }
        }
    }
}
