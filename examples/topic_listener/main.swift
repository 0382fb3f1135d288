// Prints what arrives on some-topic, as rosy's topic_listener demo.
import Foundation
import Rosy

/// Prints a line straight to stdout (no buffering, so a reader sees it at once).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
let arguments = NodeArguments(defaultName: "topic_listener")
try await Node.withNode(name: arguments.name, domainID: arguments.domainID) { node in
    try await node.listen("some-topic") { message in
        let text = message.args.first?.stringValue ?? message.args.first.map { "\($0)" } ?? ""
        let name = message.kwargs["name"]?.stringValue ?? "None"
        say("Received \"\(text) \(name)\" on topic=\(message.topic)")
    }
    say("Listening...")
    await node.forever()
}
