// Calls multiply(2, 2) and prints the result, as rosy's service_caller demo.
import Foundation
import Rosy

/// Prints a line straight to stdout (no buffering, so a reader sees it at once).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
let arguments = NodeArguments(defaultName: "service_caller")
try await Node.withNode(name: arguments.name, domainID: arguments.domainID) { node in
    say("Calculating 2 * 2...")
    // Python rosy finds providers while it starts; here we wait for one explicitly.
    _ = await node.waitForProvider("multiply", timeout: .seconds(10))
    let result = try await node.call("multiply", 2, 2, timeout: .seconds(30))
    switch result {
    case .int(let value): say("Result: \(value)")
    case .double(let value): say("Result: \(value)")
    default: say("Result: \(result)")
    }
}
