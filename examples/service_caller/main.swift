// Calls multiply(2, 2) and prints the result, as rosy's service_caller demo.
import Foundation
import Rosy

setvbuf(stdout, nil, _IOLBF, 0)
let arguments = NodeArguments(defaultName: "service_caller")
try await Node.withNode(name: arguments.name, domainID: arguments.domainID) { node in
    print("Calculating 2 * 2...")
    // Python rosy finds providers while it starts; here we wait for one explicitly.
    _ = await node.waitForProvider("multiply", timeout: .seconds(10))
    let result = try await node.call("multiply", 2, 2, timeout: .seconds(30))
    switch result {
    case .int(let value): print("Result: \(value)")
    case .double(let value): print("Result: \(value)")
    default: print("Result: \(result)")
    }
}
