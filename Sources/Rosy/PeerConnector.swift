import NIOCore
import NIOPosix
import RosyDiscovery
import RosyWire

/// Opens a connection to a peer: its Unix socket when the peer is on this host, else its
/// TCP specs in order, IPv4 first (as rosy does).
enum PeerConnector {
    /// The specs worth trying, in order.
    static func candidates(_ spec: MeshNodeSpec, hostname: String) -> [ConnectionSpec] {
        var unix: [ConnectionSpec] = []
        var ipv4: [ConnectionSpec] = []
        var ipv6: [ConnectionSpec] = []
        for candidate in spec.connectionSpecs {
            switch candidate {
            case .unix(_, let host) where host == hostname: unix.append(candidate)
            case .unix: break
            case .ip(_, _, let family): if family == 10 { ipv6.append(candidate) } else { ipv4.append(candidate) }
            }
        }
        return unix + ipv4 + ipv6
    }

    static func connect(to spec: MeshNodeSpec, link: PeerLink, settings: PeerLink.Settings) async throws -> ClientConnection {
        let candidates = candidates(spec, hostname: Host.name)
        guard !candidates.isEmpty else {
            throw NodeError("node \(spec.id) has no connection spec this host can use")
        }
        var errors: [String] = []
        for candidate in candidates {
            do {
                return try await connect(candidate, link: link, settings: settings, offersLane: SharedMemoryLane.mayOffer(to: spec.id, localHostname: Host.name))
            } catch {
                errors.append("\(candidate): \(error)")
            }
        }
        throw NodeError(errors.joined(separator: "; "))
    }

    static let unixSendBufferSize: SocketOptionValue = 4 * 1024 * 1024

    private static func connect(
        _ candidate: ConnectionSpec, link: PeerLink, settings: PeerLink.Settings, offersLane: Bool
    ) async throws -> ClientConnection {
        let logger = settings.logger
        let laneCodec = offersLane ? settings.laneCodec : nil
        let maximumMessageSize = settings.maximumMessageSize
        let initializer: @Sendable (any Channel) -> EventLoopFuture<ClientConnection> = { channel in
            channel.eventLoop.makeCompletedFuture {
                let connection = ClientConnection(
                    channel: channel, homeExecutor: settings.homeExecutor, laneCodec: laneCodec, logger: logger, link: link)
                try channel.pipeline.syncOperations.addHandler(ClientConnectionHandler(
                    connection: connection, link: link, logger: logger, maximumMessageSize: maximumMessageSize))
                return connection
            }
        }
        let bootstrap = ClientBootstrap(group: settings.group)
            .connectTimeout(.seconds(5))
            .channelOption(.writeBufferWaterMark, value: .init(low: 256 * 1024, high: 1024 * 1024))
        switch candidate {
        case .unix(let path, _):
            // A Unix stream socket's queue is bounded by the sender's SO_SNDBUF (208 kB by
            // default): with 4 MB, a batch or a 1 MB frame goes in one write and the
            // receiver reads it in large pieces (1 MB frames +30 %, 64 kB +50 %, bench/PERF-NOTES.md).
            // The kernel caps it at net.core.wmem_max and uses the memory only while in flight.
            return try await bootstrap.channelOption(.socketOption(.so_sndbuf), value: Self.unixSendBufferSize).connect(unixDomainSocketPath: path, channelInitializer: initializer)
        case .ip(let host, let port, _):
            return try await bootstrap
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: port, channelInitializer: initializer)
        }
    }
}
