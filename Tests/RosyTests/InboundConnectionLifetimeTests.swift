import Logging
import NIOCore
import NIOEmbedded
@testable import Rosy
import RosyWire
import XCTest

/// A connection that closes leaves nothing behind: its handler, and with it the channel and
/// pipeline its closures hold, is freed. (The soak found one handler and channel kept per
/// connection ever accepted: about 2.5 KB a second on a node that peers with crashers.)
final class InboundConnectionLifetimeTests: XCTestCase {
    func testAClosedConnectionFreesItsHandler() async throws {
        let dispatcher = InboundDispatcher(codec: PickleCodec(), logger: Logger(label: "test"))
        let channel = EmbeddedChannel()
        weak var released: InboundConnectionHandler?
        do {
            let handler = InboundConnectionHandler(
                dispatcher: dispatcher, logger: Logger(label: "test"), maximumMessageSize: 1 << 20,
                eventLoop: channel.eventLoop)
            released = handler
            try channel.pipeline.syncOperations.addHandler(handler)
        }
        try await channel.connect(to: SocketAddress(unixDomainSocketPath: "/tmp/none")).get()
        XCTAssertNotNil(released, "the pipeline holds the handler while the connection is open")
        _ = try channel.finish(acceptAlreadyClosed: true)

        // The handler's consumer task runs on the channel's loop: turn it until the task has
        // seen the end of its inbox (a few turns), with a generous limit.
        for _ in 0..<500 where released != nil {
            channel.embeddedEventLoop.run()
            try await Task.sleep(for: .milliseconds(10))
        }
        XCTAssertNil(released, "a closed connection's handler is still referenced")
    }
}
