import ArgumentParser
import NIOCore
import NIOPosix
import Rosy

/// `rosy-bench nio-echo`: the floor that SwiftNIO itself sets for one call at a time. An
/// 8-byte request, echoed by a handler as it is read, with none of rosy's framing, codec,
/// tasks or continuations; both ends on one event loop each, busy-polling or not, as rosy's
/// nodes. A reference next to the raw C baseline (bench/README.md).
///
///     rosy-bench nio-echo --role server --socket unix --address /tmp/echo.sock &
///     rosy-bench nio-echo --role client --socket unix --address /tmp/echo.sock --seconds 2
struct NIOEchoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nio-echo",
        abstract: "One 8-byte request at a time over bare SwiftNIO, echoed: calls/s as a JSON line."
    )

    enum Role: String, ExpressibleByArgument { case server, client }

    @Option(help: "server (echoes, prints \"ready\") or client (calls, prints the JSON line).")
    var role: Role
    @Option(help: "unix or tcp.")
    var socket: SocketKind
    @Option(help: "A Unix socket path, or a TCP port on 127.0.0.1.")
    var address: String
    @Option(help: "Microseconds each event loop polls for work before it sleeps (0: it sleeps at once).")
    var spinMicroseconds = 0
    @Option(help: "Seconds the client calls for.")
    var seconds = 2.0

    func run() throws {
        let group = spinMicroseconds > 0
            ? BusyPolling.eventLoopGroup(window: .microseconds(Int64(spinMicroseconds)))
            : MultiThreadedEventLoopGroup(numberOfThreads: 1)
        switch role {
        case .server: try serve(group)
        case .client: try call(group)
        }
    }

    private func serve(_ group: MultiThreadedEventLoopGroup) throws {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: socket == .tcp ? 1 : 0)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Echo()) }
            }
        let server = try socket == .unix
            ? bootstrap.bind(unixDomainSocketPath: address, cleanupExistingSocketFile: true).wait()
            : bootstrap.bind(host: "127.0.0.1", port: Int(address) ?? 0).wait()
        print("nio-echo: ready")
        fflush(nil)
        try server.closeFuture.wait()  // until SIGTERM
    }

    private func call(_ group: MultiThreadedEventLoopGroup) throws {
        let done = group.next().makePromise(of: Int.self)
        let before = Measure.processUsage()
        let start = NIODeadline.now()
        let end = start + .nanoseconds(Int64(seconds * 1e9))
        let bootstrap = ClientBootstrap(group: group)
            .channelOption(.maxMessagesPerRead, value: 1)
            .channelOption(.socketOption(.tcp_nodelay), value: socket == .tcp ? 1 : 0)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Caller(until: end, done: done))
                }
            }
        let channel = try socket == .unix
            ? bootstrap.connect(unixDomainSocketPath: address).wait()
            : bootstrap.connect(host: "127.0.0.1", port: Int(address) ?? 0).wait()
        let calls = try done.futureResult.wait()
        let elapsed = Double((NIODeadline.now() - start).nanoseconds) / 1e9
        let after = Measure.processUsage()
        try channel.close().wait()
        // The server's CPU and context switches are read by bench/runner.py from /proc.
        emit(["case": .text("nio_echo"), "socket": .text(socket.rawValue), "inflight": .int(1),
              "busy_poll_us": .int(spinMicroseconds), "calls": .int(calls), "seconds": .number(elapsed),
              "calls_per_s": .number(Double(calls) / elapsed),
              "send_cpu_us_per_call": .number((after.cpuSeconds - before.cpuSeconds) * 1e6 / Double(max(1, calls))),
              "send_ctx_per_call": .number(Double(after.contextSwitches - before.contextSwitches) / Double(max(1, calls)))])
    }
}

/// Writes back what it reads, as it reads it.
private final class Echo: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.writeAndFlush(data, promise: nil)
    }
}

/// Sends an 8-byte request, and the next as soon as the last one's 8 bytes are back.
private final class Caller: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let end: NIODeadline
    private let done: EventLoopPromise<Int>
    private var calls = 0
    private var bytesBack = 0

    init(until end: NIODeadline, done: EventLoopPromise<Int>) {
        self.end = end
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        send(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        bytesBack += unwrapInboundIn(data).readableBytes
        while bytesBack >= 8 {
            bytesBack -= 8
            calls += 1
            if NIODeadline.now() >= end {
                done.succeed(calls)
                return
            }
            send(context: context)
        }
    }

    private func send(context: ChannelHandlerContext) {
        var request = context.channel.allocator.buffer(capacity: 8)
        request.writeInteger(UInt64(calls))
        context.writeAndFlush(wrapOutboundOut(request), promise: nil)
    }
}
