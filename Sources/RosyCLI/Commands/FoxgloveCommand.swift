import ArgumentParser
import Foundation
import NIOCore
import Rosy
import RosyFoxglove
import RosyWire

/// `rosy foxglove [--port 8765] [--address 127.0.0.1] [--topics T...]`
struct FoxgloveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "foxglove",
        abstract: "Show the mesh live in Foxglove: a Foxglove WebSocket bridge.",
        discussion: """
        Serves the Foxglove WebSocket protocol (foxglove.websocket.v1). Each topic that a node \
        listens to is a channel with JSON messages {"args": [...], "kwargs": {...}}, so a plot \
        panel shows .args[0].x; the bridge listens to a topic only while a client subscribes. \
        Clients may publish to topics and call services (JSON {"args": [...], "kwargs": {...}}; \
        the response is the service's value as JSON). In Foxglove or Lichtblick: Open \
        connection, Foxglove WebSocket, ws://127.0.0.1:8765. There is no authentication: \
        --address 0.0.0.0 lets anyone who reaches the port read and send on the mesh.
        Example: rosy foxglove --topics pose scan
        """
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "The TCP port to listen on (0 picks a free one).")
    var port = 8765

    @Option(help: "The address to listen on; 0.0.0.0 is every interface, unauthenticated.")
    var address = "127.0.0.1"

    @Option(parsing: .upToNextOption, help: "Offer only these topics, whether or not a node listens to them (default: every topic nodes listen to).")
    var topics: [String] = []

    @Option(help: "The node's name.")
    var name = "rosy foxglove"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        for topic in topics {
            if let problem = TopicName.problem(with: topic) {
                throw ValidationError("--topics '\(topic)' is not a topic name: \(problem)")
            }
        }
    }

    func run() async throws {
        common.startLogging()
        let node = try await NodeSession.start(name: name, common: common)
        let bridge = FoxgloveBridge(node: node, options: FoxgloveBridge.Options(topics: topics.isEmpty ? nil : topics))
        let server: FoxgloveServer
        do {
            server = try await FoxgloveServer.start(bridge: bridge, host: address, port: port)
        } catch {
            await node.stop()
            throw CLIError("cannot listen on \(address):\(port): \(Self.reason(error))")
        }
        let shown = address.contains(":") ? "[\(address)]" : address
        say("Foxglove bridge on ws://\(shown):\(server.port) for domain \(node.domainID.pythonQuoted) (Ctrl+C stops)")
        if address != "127.0.0.1" && address != "::1" && address != "localhost" {
            FileHandle.standardError.write(Data("""
                Warning: listening on \(address): anyone who reaches port \(server.port) can read every topic, \
                send to any topic and call any service; there is no authentication\n
                """.utf8))
        }
        try await Interruption.run { await bridge.run() }
        try? await server.close()
        await node.stop()
    }

    /// The system's words for a failed bind ("Address already in use"), else the error itself.
    private static func reason(_ error: any Error) -> String {
        if let error = error as? IOError { return String(cString: strerror(error.errnoCode)) }
        return "\(error)"
    }
}
