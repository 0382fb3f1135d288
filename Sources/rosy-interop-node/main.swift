// A Swift node for mesh interop tests with Python rosy, found through real discovery.
//
//   rosy-interop-node serve CODEC    listens to `to-swift` (prints `received ARGS KWARGS`),
//                                    serves `multiply(a, b)` and `fail()`; runs until killed
//   rosy-interop-node client CODEC   waits for Python's `to-python` listener and `py-multiply`,
//                                    sends one message, calls py-multiply(6, 7) and py-fail()
//   rosy-interop-node ping CODEC N   sends ('ping', i) to `to-python` every 200 ms, i = 1...N
//
// Values print Python-style (`'hello'`, `None`, `b'\x00'`, `(1, 2)`) so tests can compare
// them with what Python prints.
import Foundation
import Rosy
import RosyWire

func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func show(_ value: Value) -> String {
    switch value {
    case .none: return "None"
    case .bool(let b): return b ? "True" : "False"
    case .int(let i): return "\(i)"
    case .double(let d): return "\(d)"
    case .string(let s): return "'\(s)'"
    case .bytes(let b): return "b'" + b.map { String(format: "\\x%02x", $0) }.joined() + "'"
    case .list(let items): return "[" + items.map(show).joined(separator: ", ") + "]"
    case .tuple(let items): return "(" + items.map(show).joined(separator: ", ") + (items.count == 1 ? ",)" : ")")
    case .set(let items): return "{" + items.map(show).joined(separator: ", ") + "}"
    case .dict(let entries): return "{" + entries.map { "\(show($0.key)): \(show($0.value))" }.joined(separator: ", ") + "}"
    @unknown default: return "\(value)"
    }
}

let arguments = CommandLine.arguments
guard arguments.count >= 3, let codec = try? MessageCodecs.named(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: rosy-interop-node serve|client pickle|json|msgpack\n".utf8))
    exit(2)
}
var options = NodeOptions()
options.codec = codec

switch arguments[1] {
case "serve":
    try await Node.withNode(name: "swift-server", options: options) { node in
        try await node.listen("to-swift") { message in
            let kwargs = message.kwargs.sorted { $0.key < $1.key }.map { "'\($0.key)': \(show($0.value))" }
            say("received (\(message.args.map(show).joined(separator: ", "))) {\(kwargs.joined(separator: ", "))}")
        }
        try await node.addService("multiply") { request in
            guard request.args.count == 2, let a = request.args[0].intValue, let b = request.args[1].intValue else {
                throw InteropError("multiply takes two ints")
            }
            return .int(a * b)
        }
        try await node.addService("fail") { _ in throw InteropError("swift says no") }
        say("ready")
        await node.forever()
    }
case "client":
    try await Node.withNode(name: "swift-client", options: options) { node in
        guard await node.waitForListener("to-python", timeout: .seconds(60)),
              await node.waitForProvider("py-multiply", timeout: .seconds(60)),
              await node.waitForProvider("py-fail", timeout: .seconds(60)) else {
            say("no Python peer found")
            exit(1)
        }
        var payload: [Value] = ["hello", 42, 1.5, .none, .list([1, 2]), .dict(["k": .list([1, 2])])]
        if codec.name != "json" { payload.append(.bytes([0, 1])) }
        try await node.send("to-python", args: payload, kwargs: ["name": "world"])
        let result = try await node.call("py-multiply", 6, 7, timeout: .seconds(30))
        say("result \(show(result))")
        do {
            _ = try await node.call("py-fail", timeout: .seconds(30))
            say("py-fail returned")
        } catch {
            say("py-fail raised \(error)")
        }
        try await Task.sleep(for: .seconds(1))
    }
case "ping":
    let count = arguments.count > 3 ? Int(arguments[3]) ?? 100 : 100
    try await Node.withNode(name: "swift-pinger", options: options) { node in
        _ = await node.waitForListener("to-python", timeout: .seconds(60))
        for i in 1...count {
            try await node.send("to-python", "ping", .int(Int64(i)))
            try await Task.sleep(for: .milliseconds(200))
        }
        say("sent \(count)")
    }
default:
    exit(2)
}

struct InteropError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
