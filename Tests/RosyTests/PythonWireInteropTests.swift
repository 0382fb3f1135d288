import Foundation
import Rosy
import RosyDiscovery
import RosyTestSupport
import RosyWire
import Synchronization
import XCTest

/// Frames against Python rosy 0.8.3's own sender, caller and server code, with discovery
/// replaced by handing each side the other's connection spec.
final class PythonWireInteropTests: XCTestCase {
    /// Python rosy's TopicSender and ServiceCaller, pointed at a node spec given as arguments.
    static let pythonClient = #"""
import asyncio, sys
from socket import AddressFamily
from rosy.specs import MeshNodeSpec, NodeId, UnixConnectionSpec, IpConnectionSpec, MeshTopologySpec
from rosy.node.builder import build_node_message_codec, build_peer_selector
from rosy.node.topology import MeshTopologyManager
from rosy.node.peer.connection import PeerConnectionBuilder, PeerConnectionManager
from rosy.node.topic.outbox import NodeOutboxManager
from rosy.node.topic.sender import TopicSender
from rosy.node.service.caller import ServiceCaller

async def main():
    kind, where, codec_name = sys.argv[1], sys.argv[2], sys.argv[3]
    if kind == "unix":
        spec = UnixConnectionSpec(path=where)
    else:
        spec = IpConnectionSpec(host="127.0.0.1", port=int(where), family=AddressFamily.AF_INET)
    node = MeshNodeSpec(id=NodeId("swift"), connection_specs=[spec], topics={"from-python"}, services={"multiply", "add", "fail", "missing"})
    topology = MeshTopologyManager()
    topology.set_topology(MeshTopologySpec(nodes=[node]))
    codec = build_node_message_codec(2, codec_name)
    selector = build_peer_selector(topology, None, None)
    connections = PeerConnectionManager(PeerConnectionBuilder())
    sender = TopicSender(selector, codec, NodeOutboxManager(connections))
    caller = ServiceCaller(selector, connections, codec, max_request_ids=2**16)
    if codec_name == "pickle":
        payload = ("hello", 42, 1.5, None, b"\x00\x01", [1, 2], {"k": (1, 2)})
    else:
        payload = ("hello", 42, 1.5, None, [1, 2], {"k": [1, 2]})
    await sender.send("from-python", payload, {"zeta": 1, "name": "world", "alpha": 2})
    results = await asyncio.gather(*(caller.call("multiply", (i, 10), {}) for i in range(5)))
    print("results", results, flush=True)
    sums = await asyncio.gather(*(caller.call("add", (i, 1000), {}) for i in range(200)))
    print("sums", sums == [i + 1000 for i in range(200)], flush=True)
    try:
        await caller.call("fail", (), {})
    except Exception as e:
        print("fail raised", str(e), flush=True)
    try:
        await caller.call("missing", (), {})
    except Exception as e:
        print("missing raised", str(e), flush=True)
    await asyncio.sleep(0.5)

asyncio.run(main())
"""#

    /// Python rosy's own node servers (Unix and TCP) with a listener and a service.
    static let pythonServer = #"""
import asyncio, sys
from rosy.node.builder import build_node_message_codec, build_servers_manager
from rosy.node.topic.listenermanager import TopicListenerManager
from rosy.node.service.handlermanager import ServiceHandlerManager
from rosy.specs import UnixConnectionSpec, IpConnectionSpec

async def main():
    listeners, services = TopicListenerManager(), ServiceHandlerManager()
    async def on_message(topic, *args, **kwargs):
        print("received", topic, repr(args), repr(kwargs), flush=True)
    async def multiply(service, a, b):
        await asyncio.sleep(0.01 * (5 - a))
        return a * b
    async def fail(service):
        raise ValueError("bad input")
    listeners.set_callback("to-python", on_message)
    services.set_callback("py-multiply", multiply)
    services.set_callback("py-fail", fail)
    servers = build_servers_manager(True, True, "127.0.0.1", "127.0.0.1", listeners, services,
                                    build_node_message_codec(2, "pickle"))
    await servers.start_servers()
    for spec in servers.connection_specs:
        if isinstance(spec, UnixConnectionSpec):
            print("unix", spec.path, spec.host, flush=True)
        else:
            print("tcp", spec.port, flush=True)
    await asyncio.sleep(120)

asyncio.run(main())
"""#

    private func swiftNode(mesh: InProcessMesh, tcp: Bool, codec: String = "pickle") async throws -> Node {
        var options = NodeOptions.inProcess(mesh, tcp: tcp, unix: !tcp)
        options.codec = try MessageCodecs.named(codec)
        return try await Node.start(name: "swift", options: options)
    }

    private func runPythonClient(against node: Node, tcp: Bool, codec: String = "pickle") async throws -> (TopicMessage, ProcessResult) {
        let received = Collector<TopicMessage>()
        try await node.listen("from-python") { received.append($0) }
        try await node.addService("multiply") { request in
            let a = request.args[0].intValue ?? 0, b = request.args[1].intValue ?? 0
            try await Task.sleep(for: .milliseconds(10 * (5 - Int(a))))  // answer out of order
            return .int(a * b)
        }
        // An immediate handler: its answers to one read leave together in one write.
        try await node.addService("add") { request in
            .int((request.args[0].intValue ?? 0) + (request.args[1].intValue ?? 0))
        }
        struct Failure: Error, CustomStringConvertible { var description: String { "ValueError('nope')" } }
        try await node.addService("fail") { _ in throw Failure() }
        let own = node.meshNodes.first { $0.id == node.id }?.connectionSpecs ?? []
        var target: [String] = []
        for spec in own {
            switch spec {
            case .unix(let path, _) where !tcp: target = ["unix", path]
            case .ip(_, let port, _) where tcp: target = ["tcp", "\(port)"]
            default: break
            }
        }
        XCTAssertFalse(target.isEmpty)
        let result = try TestSupport.runPython(Self.pythonClient, target + [codec], timeout: 60)
        XCTAssertEqual(result.status, 0, result.stderr)
        try await received.wait(for: 1)
        return (received.values[0], result)
    }

    func testPythonSendsAndCallsASwiftNodeOverUnixAndTCP() async throws {
        for tcp in [false, true] {
            let mesh = InProcessMesh()
            let node = try await swiftNode(mesh: mesh, tcp: tcp)
            let (message, result) = try await runPythonClient(against: node, tcp: tcp)
            XCTAssertEqual(message.topic, "from-python")
            XCTAssertEqual(message.args, ["hello", 42, 1.5, .none, .bytes([0, 1]), [1, 2], ["k": .tuple([1, 2])]])
            XCTAssertEqual(message.kwargs, ["zeta": 1, "name": "world", "alpha": 2], "kwargs in Python's order")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines, [
                "results [0, 10, 20, 30, 40]",
                "sums True",
                "fail raised ValueError('nope')",
                "missing raised service='missing' is not provided by this node",
            ])
            await node.stop()
        }
    }

    func testJSONAndMsgpackCodecsOnTheWireWithPython() async throws {
        for codec in ["json", "msgpack"] {
            let node = try await swiftNode(mesh: InProcessMesh(), tcp: false, codec: codec)
            let (message, result) = try await runPythonClient(against: node, tcp: false, codec: codec)
            XCTAssertEqual(message.args, ["hello", 42, 1.5, .none, [1, 2], ["k": [1, 2]]], codec)
            XCTAssertEqual(message.kwargs, ["zeta": 1, "name": "world", "alpha": 2], codec)
            XCTAssertEqual(result.stdout.split(separator: "\n").first.map(String.init), "results [0, 10, 20, 30, 40]", codec)
            await node.stop()
        }
    }

    func testSwiftSendsToAndCallsPythonServers() async throws {
        let python = try RunningProcess(try TestSupport.python(), ["-c", Self.pythonServer])
        let unixLine = try await python.waitForLine { $0.hasPrefix("unix ") }
        let tcpLine = try await python.waitForLine { $0.hasPrefix("tcp ") }
        let unixParts = unixLine.split(separator: " ").map(String.init)
        let port = Int(tcpLine.split(separator: " ")[1]) ?? 0

        for (round, specs) in [
            [ConnectionSpec.unix(path: unixParts[1], host: unixParts[2])],
            [ConnectionSpec.ip(host: "127.0.0.1", port: port, family: 2)],
        ].enumerated() {
            let mesh = InProcessMesh()
            let peer = MeshNodeSpec(id: NodeID(name: "python", hostname: "elsewhere"), connectionSpecs: specs,
                                    topics: ["to-python"], services: ["py-multiply", "py-fail"])
            let fake = mesh.discovery()
            try await fake.register(peer)
            let node = try await swiftNode(mesh: mesh, tcp: false)
            let ready = await node.waitForProvider("py-multiply", timeout: .seconds(30))
            XCTAssertTrue(ready)

            try await node.send("to-python", "hello", .int(Int64(round)), kwargs: ["zeta": 1, "name": "world", "alpha": 2])
            try await python.waitForLine("received to-python ('hello', \(round)) {'zeta': 1, 'name': 'world', 'alpha': 2}")

            let products = try await withThrowingTaskGroup(of: Value.self) { group in
                for a in Int64(0)..<5 { group.addTask { try await node.call("py-multiply", .int(a), 7) } }
                var products: [Value] = []
                for try await product in group { products.append(product) }
                return products
            }
            XCTAssertEqual(Set(products), [0, 7, 14, 21, 28])
            do {
                _ = try await node.call("py-fail")
                XCTFail("expected a remote error")
            } catch let error as ServiceCallError {
                XCTAssertEqual(error.code, .remoteError)
                XCTAssertEqual(error.message, "ValueError('bad input')")
            }
            await node.stop()
            await fake.unregister()
        }
        python.signal(SIGKILL)
    }
}
