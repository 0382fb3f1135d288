// Sends "hello" with name="world" on some-topic, as rosy's topic_sender demo.
import Foundation
import Rosy

let arguments = NodeArguments(defaultName: "topic_sender")
try await Node.withNode(name: arguments.name, domainID: arguments.domainID) { node in
    // Python rosy finds listeners while it starts; here we wait for one explicitly.
    if !(await node.waitForListener("some-topic", timeout: .seconds(10))) {
        FileHandle.standardError.write(Data("No listener on some-topic after 10 s; sending anyway\n".utf8))
    }
    try await node.send("some-topic", "hello", kwargs: ["name": "world"])
}
