// Prints what arrives on some-topic, as rosy's topic_listener demo.
import Foundation
import Rosy

setvbuf(stdout, nil, _IOLBF, 0)
let arguments = NodeArguments(defaultName: "topic_listener")
try await Node.withNode(name: arguments.name, domainID: arguments.domainID) { node in
    try await node.listen("some-topic") { message in
        let text = message.args.first?.stringValue ?? message.args.first.map { "\($0)" } ?? ""
        let name = message.kwargs["name"]?.stringValue ?? "None"
        print("Received \"\(text) \(name)\" on topic=\(message.topic)")
    }
    print("Listening...")
    await node.forever()
}
