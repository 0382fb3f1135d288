import Foundation
import OrderedCollections
import Rosy
import RosyWire

/// `rosy topic echo`: prints every message of the topics until Ctrl+C.
struct TopicEcho {
    var common: CommonOptions
    var name: String
    var topics: [String]
    var json: Bool

    func run() async throws {
        let node = try await NodeSession.start(name: name, common: common)
        let json = json
        if !json {
            say("Listening to topics: \(Value.list(topics.map { .string($0) }).pythonRepr)")
        }
        for topic in topics {
            try await node.listen(topic) { message in
                say(json ? Self.jsonLine(message) : Self.text(message), terminator: "")
            }
        }
        await node.forever()  // until SIGINT or SIGTERM, then the node stops
    }

    /// rosy's echo block: a blank line, `[timestamp]`, `topic='...'`, args and kwargs.
    static func text(_ message: TopicMessage) -> String {
        "\n\(bracketedNow())\ntopic=\(message.topic.pythonQuoted)\n"
            + argsAndKwargsText(args: message.args, kwargs: message.kwargs)
    }

    /// One JSON object per line: `{"timestamp": ..., "time": ..., "topic": ..., "args": [...], "kwargs": {...}}`.
    /// `timestamp` is local ISO 8601 time (Python's `datetime.isoformat()`), `time` Unix seconds.
    static func jsonLine(_ message: TopicMessage) -> String {
        let now = nanosecondsNow()
        let local = LocalDateTime(nanosecondsSinceEpoch: now).pythonDescription.replacingOccurrences(of: " ", with: "T")
        var kwargs = OrderedDictionary<Value, Value>()
        for (key, value) in message.kwargs { kwargs[.string(key)] = value }
        let object: Value = .dict([
            "timestamp": .string(local), "time": .double(Double(now) / 1e9),
            "topic": .string(message.topic), "args": .list(message.args), "kwargs": .dict(kwargs),
        ])
        return object.jsonText + "\n"
    }
}

/// `rosy topic send`: sends one message, or one every `interval` seconds until Ctrl+C.
struct TopicSend {
    var common: CommonOptions
    var name: String
    var topic: String
    var message: MessageArguments
    var interval: Double
    var wait: Bool

    func run() async throws {
        let node = try await NodeSession.start(name: name, common: common)
        do {
            try await Interruption.run { [self] in
                try await sendOnce(node)
                while interval >= 0 {
                    try await Task.sleep(for: .seconds(interval))
                    say()
                    try await sendOnce(node)
                }
            }
        } catch {
            await node.stop()
            throw error
        }
        await node.stop()  // sends what is still queued first
    }

    private func sendOnce(_ node: Node) async throws {
        if wait && !node.hasListeners(topic) {
            say("Waiting for listeners...")
            await node.waitForListener(topic)
            try Task.checkCancellation()
            say()
        }
        say(bracketedNow())
        say("Sending to topic=\(topic.pythonQuoted)")
        say(argsAndKwargsText(args: message.args, kwargs: message.kwargs), terminator: "")
        if !node.hasListeners(topic) {
            FileHandle.standardError.write(Data("Warning: no node listens to \(topic.pythonQuoted); the message goes nowhere\n".utf8))
        }
        try await node.send(topic, args: message.args, kwargs: message.kwargs)
    }
}

/// `rosy service call`: calls once, or every `interval` seconds until Ctrl+C, printing responses.
struct ServiceCall {
    var common: CommonOptions
    var name: String
    var service: String
    var message: MessageArguments
    var interval: Double
    var timeout: Double
    var wait: Bool

    func run() async throws {
        let node = try await NodeSession.start(name: name, common: common)
        do {
            try await Interruption.run { [self] in
                try await callOnce(node)
                while interval >= 0 {
                    try await Task.sleep(for: .seconds(interval))
                    try await callOnce(node)
                }
            }
        } catch {
            await node.stop()
            throw error
        }
        await node.stop()
    }

    private func callOnce(_ node: Node) async throws {
        if wait && !node.hasProviders(service) {
            say("Waiting for providers...")
            await node.waitForProvider(service)
            try Task.checkCancellation()
        }
        say(bracketedNow())
        say("Calling service=\(service.pythonQuoted)")
        say(argsAndKwargsText(args: message.args, kwargs: message.kwargs), terminator: "")
        if !node.hasProviders(service) {
            throw CLIError("no node provides service \(service.pythonQuoted)")
        }
        let response = try await node.call(service, args: message.args, kwargs: message.kwargs, timeout: .seconds(timeout))
        say("Response: \(response.pythonRepr)")
        say()
    }
}
