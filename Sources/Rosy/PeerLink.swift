import Logging
import NIOCore
import NIOPosix
import RosyDiscovery
import RosyWire
import Synchronization

/// Everything this node keeps for one peer: its spec, the one connection to it (opened on
/// first use, reopened on the next send after it broke) and the outbox of topic messages.
///
/// The send path takes one lock and, at most once per batch, schedules a drain on the
/// connection's event loop; the drain writes every waiting message and flushes once.
final class PeerLink: Sendable {
    struct Settings: Sendable {
        var group: any EventLoopGroup
        var capacity: Int
        var timeToLive: TimeAmount
        var maximumMessageSize: Int
        var logger: Logger
    }

    private struct OutboxItem {
        var frame: ByteBuffer
        var deadline: NIODeadline
    }

    /// A sender waiting for room in the outbox, and the timer that stops its wait.
    private struct SpaceWaiter {
        let continuation: CheckedContinuation<Void, Never>
        var timer: Scheduled<Void>?

        func resume() {
            timer?.cancel()
            continuation.resume()
        }
    }

    private enum ConnectionState {
        case idle
        case connecting
        case connected(ClientConnection)

        var isIdle: Bool { if case .idle = self { return true } else { return false } }
    }

    private struct State {
        var spec: MeshNodeSpec
        var connection = ConnectionState.idle
        var outbox = CircularBuffer<OutboxItem>(initialCapacity: 16)
        var drainScheduled = false
        var closed = false
        var nextWaiterID: UInt64 = 0
        var spaceWaiters: [UInt64: SpaceWaiter] = [:]
        var connectionWaiters: [CheckedContinuation<ClientConnection, any Error>] = []
        /// The outbox stayed full for ``PeerLink/stallLimit`` with no progress.
        var stalled = false
        var lastConnectFailure: NIODeadline?
        var dropped = 0
        var lastDropWarning: NIODeadline = .uptimeNanoseconds(0)
    }

    /// Frames up to this size are coalesced into shared buffers when written.
    static let coalesceLimit = 4096
    static let coalesceCapacity = 64 * 1024
    /// How long a sender waits for a full outbox to drain before the peer counts as stalled
    /// (then the oldest message is dropped, as Python rosy does, until the peer catches up).
    static let stallLimit = TimeAmount.milliseconds(500)
    /// After a failed connection attempt, topic messages are dropped (not retried) this long.
    static let reconnectDelay = TimeAmount.milliseconds(100)

    let nodeID: NodeID
    private let state: Mutex<State>
    private let settings: Settings

    init(spec: MeshNodeSpec, settings: Settings) {
        self.nodeID = spec.id
        self.state = Mutex(State(spec: spec))
        self.settings = settings
    }

    /// The peer's connection specs changed (used from the next connection on).
    func update(_ spec: MeshNodeSpec) {
        state.withLock { $0.spec = spec }
    }

    // MARK: Topic messages

    private enum SendAction {
        case done
        case connect
        case drain(ClientConnection)
        case waitForSpace(until: NIODeadline)
    }

    /// Queues one encoded topic message without waiting; returns `false` when the outbox
    /// is full and a connection is being opened or drained (then call ``send(_:deadline:)``).
    func offer(_ frame: ByteBuffer, deadline: NIODeadline) -> Bool {
        switch enqueue(frame, deadline: deadline, mayWait: true) {
        case .done: return true
        case .connect: startConnecting(); return true
        case .drain(let connection):
            connection.channel.eventLoop.execute { self.drain(connection) }
            return true
        case .waitForSpace: return false
        }
    }

    /// Queues one encoded topic message. While the outbox is full and a connection is being
    /// opened or drained, waits for room (at most ``stallLimit``); a peer that made no progress
    /// in that time is stalled, and the oldest message is dropped with a warning instead.
    func send(_ frame: ByteBuffer, deadline: NIODeadline) async {
        while true {
            switch enqueue(frame, deadline: deadline, mayWait: NIODeadline.now() < deadline) {
            case .done:
                return
            case .connect:
                startConnecting()
                return
            case .drain(let connection):
                connection.channel.eventLoop.execute { self.drain(connection) }
                return
            case .waitForSpace(let until):
                await waitForSpace(until: until)
            }
        }
    }

    private func enqueue(_ frame: ByteBuffer, deadline: NIODeadline, mayWait: Bool) -> SendAction {
        state.withLock { state -> SendAction in
            if state.closed { return .done }
            if state.outbox.count >= settings.capacity {
                // Wait for a peer that keeps up; drop at once for one that stalled.
                if !state.connection.isIdle, mayWait, !state.stalled {
                    return .waitForSpace(until: min(deadline, NIODeadline.now() + Self.stallLimit))
                }
                state.outbox.removeFirst()
                noteDrop(&state)
            }
            switch state.connection {
            case .idle:
                // Right after a failed attempt, drop instead of hammering a peer that is gone.
                if let failedAt = state.lastConnectFailure, NIODeadline.now() - failedAt < Self.reconnectDelay {
                    noteDrop(&state)
                    return .done
                }
                state.outbox.append(OutboxItem(frame: frame, deadline: deadline))
                state.connection = .connecting
                return .connect
            case .connecting:
                state.outbox.append(OutboxItem(frame: frame, deadline: deadline))
                return .done
            case .connected(let connection):
                state.outbox.append(OutboxItem(frame: frame, deadline: deadline))
                if state.drainScheduled { return .done }
                state.drainScheduled = true
                return .drain(connection)
            }
        }
    }

    /// Writes every waiting message to `connection` and flushes once (on its event loop).
    func drain(_ connection: ClientConnection) {
        let channel = connection.channel
        let (items, waiters) = state.withLock { state -> (CircularBuffer<OutboxItem>, [SpaceWaiter]) in
            guard case .connected(let current) = state.connection, current === connection else {
                return ([], [])
            }
            // Not writable: stay scheduled; channelWritabilityChanged drains again.
            guard channel.isWritable else { return ([], []) }
            state.drainScheduled = false
            state.stalled = false
            var items = CircularBuffer<OutboxItem>(initialCapacity: max(16, state.outbox.count))
            swap(&items, &state.outbox)
            let waiters = Array(state.spaceWaiters.values)
            state.spaceWaiters = [:]
            return (items, waiters)
        }
        if !items.isEmpty {
            let now = NIODeadline.now()
            var expired = 0
            // Small frames are copied into one buffer: one pipeline write per batch
            // instead of one per message. Large frames go as they are (no copy).
            var small = channel.allocator.buffer(capacity: 0)
            for item in items {
                if item.deadline < now {
                    expired += 1
                } else if item.frame.readableBytes <= Self.coalesceLimit {
                    if small.capacity == 0 { small.reserveCapacity(Self.coalesceCapacity) }
                    small.writeImmutableBuffer(item.frame)
                    if small.readableBytes >= Self.coalesceCapacity {
                        channel.write(small, promise: nil)
                        small = channel.allocator.buffer(capacity: 0)
                    }
                } else {
                    if small.readableBytes > 0 {
                        channel.write(small, promise: nil)
                        small = channel.allocator.buffer(capacity: 0)
                    }
                    channel.write(item.frame, promise: nil)
                }
            }
            if small.readableBytes > 0 { channel.write(small, promise: nil) }
            channel.flush()
            if expired > 0 {
                settings.logger.warning("\(expired) topic message(s) to node=\(nodeID) expired waiting to be sent; dropped")
            }
        }
        for waiter in waiters { waiter.resume() }
    }

    private func waitForSpace(until deadline: NIODeadline) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let id = state.withLock { state -> UInt64? in
                guard !state.closed, state.outbox.count >= settings.capacity,
                      !state.connection.isIdle else { return nil }
                state.nextWaiterID += 1
                state.spaceWaiters[state.nextWaiterID] = SpaceWaiter(continuation: continuation, timer: nil)
                return state.nextWaiterID
            }
            guard let id else {
                continuation.resume()
                return
            }
            let timer = settings.group.any().scheduleTask(deadline: deadline) { [self] () -> Void in
                // No progress in time: the peer stalled; later sends drop instead of waiting.
                let waiter = state.withLock { state in
                    let waiter = state.spaceWaiters.removeValue(forKey: id)
                    if waiter != nil { state.stalled = true }
                    return waiter
                }
                waiter?.continuation.resume()
            }
            // Resumed already (the outbox drained): the timer is not needed.
            let stillWaiting = state.withLock { state -> Bool in
                guard state.spaceWaiters[id] != nil else { return false }
                state.spaceWaiters[id]?.timer = timer
                return true
            }
            if !stillWaiting { timer.cancel() }
        }
    }

    private func noteDrop(_ state: inout State) {
        state.dropped += 1
        let now = NIODeadline.now()
        if now - state.lastDropWarning > .seconds(1) {
            settings.logger.warning("Dropped \(state.dropped) topic message(s) for node=\(nodeID); outbox queue full")
            state.dropped = 0
            state.lastDropWarning = now
        }
    }

    // MARK: Service calls

    /// Sends a service request frame on this peer's connection and waits for its response.
    func call(_ frame: ByteBuffer, timeout: TimeAmount?) async throws -> ServiceResponseFrame.Outcome {
        let connection = try await openConnection()
        return try await connection.call(frame, timeout: timeout)
    }

    /// The open connection, opening one if needed.
    private func openConnection() async throws -> ClientConnection {
        try await withCheckedThrowingContinuation { continuation in
            enum Next { case ready(ClientConnection), wait, connect, closed }
            let next = state.withLock { state -> Next in
                if state.closed { return .closed }
                switch state.connection {
                case .connected(let connection): return .ready(connection)
                case .connecting:
                    state.connectionWaiters.append(continuation)
                    return .wait
                case .idle:
                    state.connectionWaiters.append(continuation)
                    state.connection = .connecting
                    return .connect
                }
            }
            switch next {
            case .ready(let connection): continuation.resume(returning: connection)
            case .wait: break
            case .connect: startConnecting()
            case .closed: continuation.resume(throwing: CallFailure.connectionLost("node \(nodeID) left the mesh"))
            }
        }
    }

    // MARK: Connection

    private func startConnecting() {
        let spec = state.withLock { $0.spec }
        Task {
            do {
                connected(try await PeerConnector.connect(to: spec, link: self, settings: settings))
            } catch {
                connectFailed(error)
            }
        }
    }

    private func connected(_ connection: ClientConnection) {
        enum Next { case closeIt, failed, ready([CheckedContinuation<ClientConnection, any Error>], drain: Bool) }
        let next = state.withLock { state -> Next in
            if state.closed { return .closeIt }
            if connection.isClosed.load(ordering: .sequentiallyConsistent) { return .failed }
            state.connection = .connected(connection)
            state.lastConnectFailure = nil
            let waiters = state.connectionWaiters
            state.connectionWaiters = []
            let drain = !state.outbox.isEmpty && !state.drainScheduled
            if drain { state.drainScheduled = true }
            return .ready(waiters, drain: drain)
        }
        switch next {
        case .closeIt:
            connection.channel.close(promise: nil)
        case .failed:
            connectFailed(CallFailure.connectionLost("connection to \(nodeID) closed at once"))
        case .ready(let waiters, let drain):
            for waiter in waiters { waiter.resume(returning: connection) }
            if drain { connection.channel.eventLoop.execute { self.drain(connection) } }
        }
    }

    private func connectFailed(_ error: any Error) {
        let (dropped, connectionWaiters, spaceWaiters) = state.withLock { state in
            state.connection = .idle
            state.lastConnectFailure = NIODeadline.now()
            state.drainScheduled = false
            let dropped = state.outbox.count
            state.outbox.removeAll()
            defer {
                state.connectionWaiters = []
                state.spaceWaiters = [:]
            }
            return (dropped, state.connectionWaiters, Array(state.spaceWaiters.values))
        }
        let droppedText = dropped > 0 ? "; dropped \(dropped) topic message(s)" : ""
        settings.logger.error("Could not connect to node=\(nodeID): \(error)\(droppedText)")
        for waiter in connectionWaiters { waiter.resume(throwing: CallFailure.connectionLost("could not connect to node \(nodeID): \(error)")) }
        for waiter in spaceWaiters { waiter.resume() }
    }

    /// The connection closed (from its pipeline). The next send opens a new one.
    func connectionClosed(_ connection: ClientConnection) {
        let waiters = state.withLock { state -> [SpaceWaiter] in
            guard case .connected(let current) = state.connection, current === connection else { return [] }
            state.connection = .idle
            state.drainScheduled = false
            defer { state.spaceWaiters = [:] }
            return Array(state.spaceWaiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Whether topic messages are still waiting to be handed to the connection.
    var hasQueuedMessages: Bool {
        state.withLock { !$0.outbox.isEmpty }
    }

    /// Waits until every queued message is written to the socket (or `deadline` passes).
    func flush(until deadline: NIODeadline) async {
        while hasQueuedMessages && NIODeadline.now() < deadline {
            try? await Task.sleep(nanoseconds: 2_000_000)
        }
        let connection = state.withLock { state -> ClientConnection? in
            if case .connected(let connection) = state.connection { return connection }
            return nil
        }
        guard let connection else { return }
        // The empty write completes after every earlier write reached the socket.
        let loop = connection.channel.eventLoop
        let promise = loop.makePromise(of: Void.self)
        let done = NIOLoopBoundBox.makeBoxSendingValue(false, eventLoop: loop)
        let finish: @Sendable () -> Void = {
            if !done.value {
                done.value = true
                promise.succeed()
            }
        }
        let timer = loop.scheduleTask(deadline: deadline) { finish() }
        connection.channel.writeAndFlush(ByteBuffer()).whenComplete { _ in finish() }
        try? await promise.futureResult.get()
        timer.cancel()
    }

    /// Closes the link for good (the peer left the mesh). The connection closes now, unless
    /// calls still wait on it: a leaving peer answers the calls it is handling, then closes.
    func close() {
        let (connection, spaceWaiters, connectionWaiters) = state.withLock { state in
            state.closed = true
            state.outbox.removeAll()
            var connection: ClientConnection?
            if case .connected(let current) = state.connection { connection = current }
            state.connection = .idle
            defer {
                state.spaceWaiters = [:]
                state.connectionWaiters = []
            }
            return (connection, Array(state.spaceWaiters.values), state.connectionWaiters)
        }
        if let connection, !connection.hasPendingCalls { connection.channel.close(promise: nil) }
        for waiter in spaceWaiters { waiter.resume() }
        for waiter in connectionWaiters { waiter.resume(throwing: CallFailure.connectionLost("node \(nodeID) left the mesh")) }
    }
}
