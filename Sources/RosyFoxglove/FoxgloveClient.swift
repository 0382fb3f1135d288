import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket

/// One WebSocket client of the bridge: its subscriptions, the channels it publishes on, and
/// what is queued for it.
///
/// Writes may come from any thread (the mesh's listeners, the bridge's timers). Messages for
/// a client that reads more slowly than they arrive are dropped for that client alone once
/// `queueLimit` bytes wait in its connection, and counted: its memory stays bounded and no
/// other client, nor the mesh, waits for it. Control messages (advertise, status, service
/// responses) are never dropped; a client that lets `closeLimit` bytes of them pile up is
/// disconnected.
final class FoxgloveClient: Sendable {
    /// A number for logs, unique within the bridge.
    let number: Int
    let channel: any Channel
    let queueLimit: Int
    let closeLimit: Int
    private let state = NIOLockedValueBox(State())

    private struct State {
        /// subscription id -> channel id
        var subscriptions: [UInt32: UInt32] = [:]
        /// The client's own channels, for clientPublish.
        var published: [UInt32: ClientChannel] = [:]
        /// Bytes handed to the connection and not yet written to its socket.
        var queuedBytes = 0
        var dropped = 0
        var droppedSinceReport = 0
        var closed = false
    }

    init(number: Int, channel: any Channel, queueLimit: Int, closeLimit: Int) {
        self.number = number
        self.channel = channel
        self.queueLimit = queueLimit
        self.closeLimit = closeLimit
    }

    // MARK: Subscriptions and client channels

    /// The channels this client subscribes to, by subscription id.
    var subscriptions: [UInt32: UInt32] { state.withLockedValue { $0.subscriptions } }

    /// Adds a subscription; false if the id is already in use.
    func subscribe(id: UInt32, channelID: UInt32) -> Bool {
        state.withLockedValue { state in
            guard state.subscriptions[id] == nil else { return false }
            state.subscriptions[id] = channelID
            return true
        }
    }

    /// Removes subscriptions by id; returns the ids that were not there.
    func unsubscribe(ids: [UInt32]) -> [UInt32] {
        state.withLockedValue { state in ids.filter { state.subscriptions.removeValue(forKey: $0) == nil } }
    }

    /// Removes every subscription to these channels (they were unadvertised).
    func forgetChannels(_ channelIDs: Set<UInt32>) {
        state.withLockedValue { state in state.subscriptions = state.subscriptions.filter { !channelIDs.contains($0.value) } }
    }

    func advertise(_ channel: ClientChannel) {
        state.withLockedValue { $0.published[channel.id] = channel }
    }

    /// Removes client channels; returns the ids that were not there.
    func unadvertise(ids: [UInt32]) -> [UInt32] {
        state.withLockedValue { state in ids.filter { state.published.removeValue(forKey: $0) == nil } }
    }

    func publishedChannel(_ id: UInt32) -> ClientChannel? {
        state.withLockedValue { $0.published[id] }
    }

    // MARK: Writing

    /// Messages dropped for this client so far.
    var droppedCount: Int { state.withLockedValue { $0.dropped } }

    /// The count dropped since the last call, for the bridge's once-a-second report.
    func takeDroppedSinceReport() -> (recent: Int, total: Int) {
        state.withLockedValue { state in
            defer { state.droppedSinceReport = 0 }
            return (state.droppedSinceReport, state.dropped)
        }
    }

    /// Bytes waiting in the connection now.
    var queuedBytes: Int { state.withLockedValue { $0.queuedBytes } }

    /// Sends a text message; never dropped.
    func send(_ message: ServerMessage) {
        var buffer = channel.allocator.buffer(capacity: 64)
        buffer.writeString(message.jsonText)
        write(buffer, opcode: .text, droppable: false)
    }

    /// Sends a binary control message (a service response); never dropped.
    func sendBinary(_ buffer: ByteBuffer) {
        write(buffer, opcode: .binary, droppable: false)
    }

    /// Sends a message of a subscription; returns false when it was dropped for this client.
    @discardableResult
    func sendMessageData(subscriptionID: UInt32, receiveTime: UInt64, payload: ByteBuffer) -> Bool {
        let frame = ServerBinary.messageData(subscriptionID: subscriptionID, receiveTime: receiveTime,
                                             payload: payload, allocator: channel.allocator)
        return write(frame, opcode: .binary, droppable: true)
    }

    @discardableResult
    private func write(_ buffer: ByteBuffer, opcode: WebSocketOpcode, droppable: Bool) -> Bool {
        let size = buffer.readableBytes
        enum Decision { case write, drop, close }
        let decision = state.withLockedValue { state -> Decision in
            if state.closed { return .drop }
            if droppable && state.queuedBytes > 0 && state.queuedBytes + size > queueLimit {
                state.dropped += 1
                state.droppedSinceReport += 1
                return .drop
            }
            if !droppable && state.queuedBytes + size > closeLimit {
                state.closed = true
                return .close
            }
            state.queuedBytes += size
            return .write
        }
        switch decision {
        case .drop:
            return false
        case .close:
            channel.close(promise: nil)
            return false
        case .write:
            let promise = channel.eventLoop.makePromise(of: Void.self)
            promise.futureResult.whenComplete { [state] _ in
                state.withLockedValue { $0.queuedBytes -= size }
            }
            channel.writeAndFlush(WebSocketFrame(fin: true, opcode: opcode, data: buffer), promise: promise)
            return true
        }
    }
}
