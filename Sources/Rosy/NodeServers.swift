import Foundation
import Logging
import NIOCore
import NIOPosix
import RosyDiscovery
import RosyWire
import Synchronization

/// A node's servers: a Unix socket in the runtime directory and TCP on ephemeral ports.
/// Peers connect to them to send topic messages and service requests.
final class NodeServers: Sendable {
    private struct State {
        var listeners: [any Channel] = []
        var connections: [ObjectIdentifier: any Channel] = [:]
        var socketPath: String?
    }
    private let state = Mutex(State())
    private let dispatcher: InboundDispatcher
    private let options: NodeOptions
    private let logger: Logger

    init(dispatcher: InboundDispatcher, options: NodeOptions) {
        self.dispatcher = dispatcher
        self.options = options
        self.logger = options.logger
    }

    /// Starts every allowed server; returns the connection specs to advertise.
    func start(uuid: UUID) async throws -> [ConnectionSpec] {
        guard options.allowUnixConnections || options.allowTCPConnections else {
            throw NodeError("a node must allow Unix or TCP connections (or both)")
        }
        var specs: [ConnectionSpec] = []
        if options.allowUnixConnections {
            let directory = Host.socketDirectory
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            StaleSockets.sweep(directory)
            let path = directory.appendingPathComponent("\(uuid.uuidString.lowercased()).sock").path
            let channel = try await bootstrap(tcp: false)
                .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
            state.withLock {
                $0.listeners.append(channel)
                $0.socketPath = path
            }
            specs.append(.unix(path: path, host: Host.name))
        }
        if options.allowTCPConnections {
            var ipSpecs: [ConnectionSpec] = []
            for host in options.serverHosts {
                let channel = try await bootstrap(tcp: true).bind(host: host, port: 0).get()
                state.withLock { $0.listeners.append(channel) }
                guard let address = channel.localAddress, let port = address.port else { continue }
                let family = address.protocol == .inet6 ? 10 : 2
                for name in Self.advertisedNames(boundTo: host, family: family, override: options.advertisedHost) {
                    ipSpecs.append(.ip(host: name, port: port, family: family))
                }
            }
            // IPv4 first, as rosy sorts them.
            specs += ipSpecs.enumerated().sorted { lhs, rhs in
                (Self.family(lhs.element), lhs.offset) < (Self.family(rhs.element), rhs.offset)
            }.map(\.element)
        }
        return specs
    }

    /// The host names peers are told for a TCP server bound to `host`: the override if there
    /// is one; for a wildcard address, `<hostname>.local` (as rosy) and then the machine's
    /// addresses of that family, so a peer without mDNS name resolution still gets in; for
    /// a specific address, that address.
    static func advertisedNames(boundTo host: String, family: Int, override: String?) -> [String] {
        if let override { return [override] }
        guard host == "0.0.0.0" || host == "::" else { return [host] }
        return HostInfo.advertisedTCPHosts().enumerated()
            .filter { index, entry in index == 0 || entry.family == family }
            .map { $0.element.name }
    }

    /// Closes the servers and every connection from peers; removes the Unix socket file.
    func stop() async {
        let (listeners, connections, path) = state.withLock { state in
            defer {
                state.listeners = []
                state.connections = [:]
                state.socketPath = nil
            }
            return (state.listeners, Array(state.connections.values), state.socketPath)
        }
        for channel in listeners { try? await channel.close() }
        for channel in connections { try? await channel.close() }
        if let path { unlink(path) }
    }

    private static func family(_ spec: ConnectionSpec) -> Int {
        if case .ip(_, _, let family) = spec { return family }
        return 0
    }

    /// Reads per wake-up of a connection (each up to 1 MiB): one, so the listeners, which
    /// run on the same event loop, take each read's messages before the next read. The
    /// buffers of large messages are then free again for the next ones (see
    /// ``FrameAssembler``; fresh memory costs a page fault every 4 KiB), and the frames of
    /// small messages decoded at once stay those of one read: with 4 reads per wake-up, a
    /// receiver at full speed held the frames of 4 MiB of 0 B messages at a time, 16 MiB of
    /// its 46 MiB. Small messages lose nothing: one read holds thousands of them.
    static let readsPerWakeUp: UInt = 1

    private func bootstrap(tcp: Bool) -> ServerBootstrap {
        let dispatcher = self.dispatcher
        let logger = self.logger
        let maximumMessageSize = options.maxFrameSize
        let acceptsLanes = SharedMemoryLane.isEnabled(options)
        var bootstrap = ServerBootstrap(group: options.eventLoopGroup)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: Self.readsPerWakeUp)
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 65536, maximum: 1024 * 1024))
        if tcp {
            bootstrap = bootstrap.childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        }
        return bootstrap.childChannelInitializer { [weak self] channel in
            self?.track(channel)
            return channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    InboundConnectionHandler(
                        dispatcher: dispatcher, logger: logger, maximumMessageSize: maximumMessageSize,
                        eventLoop: channel.eventLoop, acceptsLanes: acceptsLanes))
            }
        }
    }

    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLock { $0.connections[id] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.state.withLock { $0.connections.removeValue(forKey: id) }
        }
    }
}
