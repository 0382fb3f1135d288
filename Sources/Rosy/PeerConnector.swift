#if canImport(Glibc)
import Glibc
#endif
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
        case .ip(let host, let port, let family):
            // Only addresses of the spec's family: Python rosy binds IPv4 and IPv6 on two
            // different ports, and the IPv6 port over IPv4 may be another node's server.
            let bootstrap = bootstrap.channelOption(.socketOption(.tcp_nodelay), value: 1)
            var failures: [String] = []
            for address in try await addresses(of: host, port: port, family: family == 10 ? AF_INET6 : AF_INET) {
                do {
                    return try await bootstrap.connect(to: address, channelInitializer: initializer)
                } catch {
                    failures.append("\(address): \(error)")
                }
            }
            throw NodeError(failures.joined(separator: "; "))
        }
    }

    /// Every address of `family` that `host` has, in getaddrinfo's order (on NIO's thread
    /// pool: a `.local` name may take an mDNS lookup).
    static func addresses(of host: String, port: Int, family: Int32) async throws -> [SocketAddress] {
        try await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_family = family
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(host, String(port), &hints, &list)
            guard status == 0 else {
                throw NodeError("cannot resolve \(host) for \(family == AF_INET6 ? "IPv6" : "IPv4"): \(String(cString: gai_strerror(status)))")
            }
            defer { freeaddrinfo(list) }
            var found: [SocketAddress] = []
            var entry = list
            while let info = entry {
                defer { entry = info.pointee.ai_next }
                guard info.pointee.ai_family == family, let raw = info.pointee.ai_addr else { continue }
                if family == AF_INET6 {
                    found.append(SocketAddress(raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee }, host: host))
                } else {
                    found.append(SocketAddress(raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }, host: host))
                }
            }
            guard !found.isEmpty else { throw NodeError("no \(family == AF_INET6 ? "IPv6" : "IPv4") address for \(host)") }
            return found
        }
    }
}
