// Provides the multiply service, as rosy's service_provider demo.
import Foundation
import Rosy

/// Prints a line straight to stdout (no buffering, so a reader sees it at once).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
let arguments = NodeArguments(defaultName: "service_provider")
try await Node.withNode(name: arguments.name, domainID: arguments.domainID) { node in
    try await node.addService("multiply") { request in
        guard request.args.count == 2 else {
            throw NodeError("multiply() takes 2 arguments (\(request.args.count) given)")
        }
        switch (request.args[0], request.args[1]) {
        case (.int(let a), .int(let b)):
            let (product, overflow) = a.multipliedReportingOverflow(by: b)
            if overflow { throw NodeError("OverflowError('product does not fit in 64 bits')") }
            return .int(product)
        case let (a, b):
            guard let x = a.doubleValue, let y = b.doubleValue else {
                throw NodeError("TypeError(\"can't multiply \(a) by \(b)\")")
            }
            return .double(x * y)
        }
    }
    say("Started service...")
    await node.forever()
}
