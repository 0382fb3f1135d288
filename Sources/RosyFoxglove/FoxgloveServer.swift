import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// The WebSocket server of the Foxglove bridge (SwiftNIO's NIOWebSocket): HTTP/1.1 with an
/// upgrade to subprotocol `foxglove.websocket.v1`, then one ``FoxgloveBridge`` client per
/// connection. It has no authentication: bind it to loopback unless the network is trusted.
///
/// ```swift
/// let server = try await FoxgloveServer.start(bridge: bridge, host: "127.0.0.1", port: 8765)
/// print("ws://127.0.0.1:\(server.port)")
/// try await server.close()
/// ```
public final class FoxgloveServer: Sendable {
    /// The largest message a client may send, in bytes (frames joined).
    public static let maximumClientMessageSize = 16 * 1024 * 1024

    /// The kernel's send buffer per client (fixed, so that a stalled client holds this
    /// much in the kernel, not the autotuned maximum); enough for 250 MB/s at 1 ms round trip.
    public static let clientSendBufferSize = 256 * 1024

    private let channel: any Channel

    /// The port the server listens on (useful with port 0).
    public var port: Int { channel.localAddress?.port ?? 0 }

    private init(channel: any Channel) { self.channel = channel }

    /// Binds `host:port` and serves `bridge` to every client that connects.
    public static func start(bridge: FoxgloveBridge, host: String, port: Int,
                             group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> FoxgloveServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_sndbuf), value: SocketOptionValue(clientSendBufferSize))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try configure(channel, bridge: bridge)
                }
            }
            .bind(host: host, port: port)
            .get()
        return FoxgloveServer(channel: channel)
    }

    /// Stops listening and closes the server socket (open client connections close with
    /// the event loop group, or when their clients leave).
    public func close() async throws {
        try await channel.close()
    }

    private static func configure(_ channel: any Channel, bridge: FoxgloveBridge) throws {
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: maximumClientMessageSize,
            automaticErrorHandling: true,
            shouldUpgrade: { channel, head in
                let offered = head.headers[canonicalForm: "sec-websocket-protocol"]
                guard offered.contains(Substring(FoxgloveProtocol.subprotocol)) else {
                    return channel.eventLoop.makeSucceededFuture(nil)
                }
                var headers = HTTPHeaders()
                headers.add(name: "Sec-WebSocket-Protocol", value: FoxgloveProtocol.subprotocol)
                return channel.eventLoop.makeSucceededFuture(headers)
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        NIOWebSocketFrameAggregator(
                            minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1024,
                            maxAccumulatedFrameSize: maximumClientMessageSize),
                        FoxgloveConnectionHandler(bridge: bridge),
                    ])
                }
            })
        let plainHTTP = PlainHTTPHandler()
        let plainHTTPBox = NIOLoopBound(plainHTTP, eventLoop: channel.eventLoop)
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withServerUpgrade: (upgraders: [upgrader], completionHandler: { context in
                context.pipeline.syncOperations.removeHandler(plainHTTPBox.value, promise: nil)
            }))
        try channel.pipeline.syncOperations.addHandler(plainHTTP)
    }
}

/// Answers an HTTP request that is not a Foxglove WebSocket upgrade with one line of text.
private final class PlainHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data) else { return }
        let upgrade = head.headers.contains(name: "upgrade")
        let text = upgrade
            ? "rosy foxglove: a WebSocket needs subprotocol \(FoxgloveProtocol.subprotocol)\n"
            : "rosy foxglove: a Foxglove WebSocket server (\(FoxgloveProtocol.subprotocol)); open it in Foxglove\n"
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: String(text.utf8.count))
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: upgrade ? .badRequest : .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [channel = context.channel] _ in
            channel.close(promise: nil)
        }
    }
}

/// One WebSocket connection: frames in, to the bridge; pings answered; close answered.
private final class FoxgloveConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let bridge: FoxgloveBridge
    private var client: FoxgloveClient?
    private var closeSent = false

    init(bridge: FoxgloveBridge) { self.bridge = bridge }

    func handlerAdded(context: ChannelHandlerContext) {
        client = bridge.connect(channel: context.channel)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let client { bridge.disconnect(client) }
        client = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if let client { bridge.disconnect(client) }
        client = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let client else { return }
        switch frame.opcode {
        case .text:
            bridge.receive(text: frame.unmaskedData, from: client)
        case .binary:
            bridge.receive(binary: frame.unmaskedData, from: client)
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .connectionClose:
            // Echo the close, then close the connection (RFC 6455, 5.5.1).
            guard !closeSent else {
                context.close(promise: nil)
                return
            }
            closeSent = true
            var data = frame.unmaskedData
            let code = data.readSlice(length: 2) ?? context.channel.allocator.buffer(capacity: 0)
            let close = WebSocketFrame(fin: true, opcode: .connectionClose, data: code)
            context.writeAndFlush(wrapOutboundOut(close)).whenComplete { [channel = context.channel] _ in
                channel.close(promise: nil)
            }
        default:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        bridge.logger.info("client \(client?.number ?? 0): \(error); closing its connection")
        context.close(promise: nil)
    }
}
