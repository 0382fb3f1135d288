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
        var byteCapacity: Int
        var timeToLive: TimeAmount
        var maximumMessageSize: Int
        var logger: Logger
        /// The node's executor on `group`'s loop (``Node/taskExecutor``).
        var homeExecutor: EventLoopTaskExecutor? = nil
        /// The node's codec when it offers shared-memory lanes to peers on this host
        /// (``NodeOptions/sharedMemory``), else nil.
        var laneCodec: (any MessageCodec)? = nil
    }

    /// A sender waiting for room in the outbox, and until when it may wait.
    private struct SpaceWaiter {
        let continuation: CheckedContinuation<Void, Never>
        let until: NIODeadline
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
        var outbox = Outbox()
        var drainScheduled = false
        var closed = false
        var spaceWaiters: [SpaceWaiter] = []
        /// One timer per link watches the waiting senders (not one per wait).
        var stallTimerArmed = false
        var connectionWaiters: [CheckedContinuation<ClientConnection, any Error>] = []
        /// The outbox stayed full for ``PeerLink/stallLimit`` with no progress.
        var stalled = false
        var lastConnectFailure: NIODeadline?
        /// Connection attempts that failed in a row (0 once one succeeds or the spec changes).
        var failedAttempts = 0
        var dropped = 0
        var lastDropWarning: NIODeadline = .uptimeNanoseconds(0)
    }

    /// Frames up to this size are encoded into the outbox's shared batch buffer.
    static let coalesceLimit = Outbox.coalesceLimit
    /// How long a sender waits for a full outbox to drain before the peer counts as stalled
    /// (then the oldest message is dropped, as Python rosy does, until the peer catches up).
    static let stallLimit = TimeAmount.milliseconds(500)
    /// After a failed connection attempt, topic messages are dropped (not retried) for
    /// 100 ms, doubling with each failure in a row up to 3.2 s: a peer that is gone without a
    /// goodbye (killed; until discovery drops it) is not dialled ten times a second.
    static func reconnectDelay(afterFailures failures: Int) -> TimeAmount {
        .milliseconds(100 << Int64(min(max(failures, 1), 6) - 1))
    }

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
        state.withLock { state in
            // New addresses may be reachable: try them at once.
            if state.spec.connectionSpecs != spec.connectionSpecs { state.failedAttempts = 0 }
            state.spec = spec
        }
    }

    // MARK: Topic messages

    private enum SendAction {
        case done
        case connect
        case drain(ClientConnection)
        case waitForSpace(until: NIODeadline)
    }

    /// Queues one topic message that `encode` writes straight into the outbox (no buffer of
    /// its own), without waiting; returns `false` when the outbox is full and a connection is
    /// being opened or drained (then call ``send(deadline:encode:)``).
    func offer(deadline: NIODeadline, encode: (inout ByteBuffer) throws -> Void) throws -> Bool {
        try perform(enqueue(deadline: deadline, mayWait: true) { try $0.append(deadline: deadline, encode: encode) })
    }

    /// Queues one encoded topic message without waiting, as ``offer(deadline:encode:)`` does.
    func offer(_ frame: Outbox.Frame, deadline: NIODeadline) -> Bool {
        perform(enqueue(deadline: deadline, mayWait: true) { $0.append(frame, deadline: deadline) })
    }

    /// Queues one topic message. While the outbox is full and a connection is being opened
    /// or drained, waits for room (at most ``stallLimit``); a peer that made no progress in
    /// that time is stalled, and the oldest message is dropped with a warning instead.
    func send(deadline: NIODeadline, encode: (inout ByteBuffer) throws -> Void) async throws {
        var frame = ByteBuffer()
        try encode(&frame)
        await send(.bytes(frame), deadline: deadline)
    }

    /// Queues one encoded topic message, waiting for room as ``send(deadline:encode:)`` does.
    func send(_ frame: Outbox.Frame, deadline: NIODeadline) async {
        while true {
            let action = enqueue(deadline: deadline, mayWait: NIODeadline.now() < deadline) {
                $0.append(frame, deadline: deadline)
            }
            if case .waitForSpace(let until) = action {
                await waitForSpace(until: until)
            } else {
                _ = perform(action)
                return
            }
        }
    }

    /// Carries out what ``enqueue(deadline:mayWait:append:)`` decided; `false` when the
    /// sender has to wait for room.
    private func perform(_ action: SendAction) -> Bool {
        switch action {
        case .done: return true
        case .connect: startConnecting(); return true
        case .drain(let connection):
            connection.channel.eventLoop.execute { self.drain(connection) }
            return true
        case .waitForSpace: return false
        }
    }

    /// Under the lock: adds one message with `append` (unless the sender must wait, or the
    /// peer just failed to connect) and says what to do next. When `append` throws, nothing
    /// changed.
    private func enqueue(
        deadline: NIODeadline, mayWait: Bool, append: (inout Outbox) throws -> Void
    ) rethrows -> SendAction {
        try state.withLock { state -> SendAction in
            if state.closed { return .done }
            let full = isFull(state.outbox)
            // Wait for a peer that keeps up; drop the oldest at once for one that stalled.
            if full, !state.connection.isIdle, mayWait, !state.stalled {
                return .waitForSpace(until: min(deadline, NIODeadline.now() + Self.stallLimit))
            }
            // Right after a failed attempt, drop instead of hammering a peer that is gone.
            if state.connection.isIdle, let failedAt = state.lastConnectFailure,
               NIODeadline.now() - failedAt < Self.reconnectDelay(afterFailures: state.failedAttempts) {
                noteDrop(&state)
                return .done
            }
            let bytesBefore = state.outbox.bytes
            try append(&state.outbox)
            // Only an outbox that was full (and not waited for) drops: its oldest messages go
            // until the ones before the new message are within both bounds again.
            let added = state.outbox.bytes - bytesBefore
            while state.outbox.count > 1,
                  state.outbox.count - 1 >= settings.capacity || state.outbox.bytes - added >= settings.byteCapacity {
                state.outbox.removeFirst()
                noteDrop(&state)
            }
            switch state.connection {
            case .idle:
                state.connection = .connecting
                return .connect
            case .connecting:
                return .done
            case .connected(let connection):
                if state.drainScheduled { return .done }
                state.drainScheduled = true
                return .drain(connection)
            }
        }
    }

    /// Hands every waiting message to `connection` and flushes once (on its event loop).
    func drain(_ connection: ClientConnection) {
        let channel = connection.channel
        // The messages are swapped out under the lock (the senders wait for it), with the
        // empty outbox made before it.
        var taken = Outbox()
        let waiters = state.withLock { state -> [SpaceWaiter] in
            guard case .connected(let current) = state.connection, current === connection else { return [] }
            // Not writable: stay scheduled; channelWritabilityChanged drains again (or the
            // connection, once the frames that wait for its shared-memory lane are gone).
            guard channel.isWritable, !connection.isHoldingFrames else { return [] }
            state.drainScheduled = false
            state.stalled = false
            swap(&taken, &state.outbox)
            defer { state.spaceWaiters = [] }
            return state.spaceWaiters
        }
        let writes = taken.writes(now: NIODeadline.now())
        if !writes.buffers.isEmpty {
            for buffer in writes.buffers { connection.write(buffer) }
            channel.flush()
        }
        if writes.expired > 0 {
            settings.logger.warning("\(writes.expired) topic message(s) to node=\(nodeID) expired waiting to be sent; dropped")
        }
        for waiter in waiters { waiter.continuation.resume() }
    }

    private func waitForSpace(until deadline: NIODeadline) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            enum Next { case resume, wait, armTimer }
            let next = state.withLock { state -> Next in
                guard !state.closed, isFull(state.outbox),
                      !state.connection.isIdle else { return .resume }
                state.spaceWaiters.append(SpaceWaiter(continuation: continuation, until: deadline))
                if state.stallTimerArmed { return .wait }
                state.stallTimerArmed = true
                return .armTimer
            }
            switch next {
            case .resume: continuation.resume()
            case .wait: break
            case .armTimer: armStallTimer(at: deadline)
            }
        }
    }

    /// Ends the waits that reached their limit with no progress (the peer stalled: later
    /// sends drop instead of waiting), and watches the rest.
    private func armStallTimer(at deadline: NIODeadline) {
        settings.group.any().scheduleTask(deadline: deadline) { [self] () -> Void in
            let now = NIODeadline.now()
            let (expired, next) = state.withLock { state -> ([SpaceWaiter], NIODeadline?) in
                let expired = state.spaceWaiters.filter { $0.until <= now }
                if !expired.isEmpty {
                    state.spaceWaiters.removeAll { $0.until <= now }
                    state.stalled = true
                }
                let next = state.spaceWaiters.map(\.until).min()
                state.stallTimerArmed = next != nil
                return (expired, next)
            }
            for waiter in expired { waiter.continuation.resume() }
            if let next { armStallTimer(at: next) }
        }
    }

    /// Whether a sender must wait for room (or, for a stalled peer, drop the oldest).
    private func isFull(_ outbox: Outbox) -> Bool {
        outbox.count >= settings.capacity || outbox.bytes >= settings.byteCapacity
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

    /// The open connection for service calls, opened if there is none (and waited for).
    nonisolated(nonsending) func connection() async throws -> ClientConnection {
        if let open = connectedConnection { return open }
        return try await openConnection()
    }

    /// The open connection, if there is one (no suspension on the way).
    private var connectedConnection: ClientConnection? {
        state.withLock { state in
            guard !state.closed, case .connected(let connection) = state.connection else { return nil }
            return connection
        }
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
            state.failedAttempts = 0
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
            state.failedAttempts += 1
            state.drainScheduled = false
            let dropped = state.outbox.count
            state.outbox.removeAll()
            defer {
                state.connectionWaiters = []
                state.spaceWaiters = []
            }
            return (dropped, state.connectionWaiters, state.spaceWaiters)
        }
        let droppedText = dropped > 0 ? "; dropped \(dropped) topic message(s)" : ""
        settings.logger.error("Could not connect to node=\(nodeID): \(error)\(droppedText)")
        for waiter in connectionWaiters { waiter.resume(throwing: CallFailure.connectionLost("could not connect to node \(nodeID): \(error)")) }
        for waiter in spaceWaiters { waiter.continuation.resume() }
    }

    /// The connection closed (from its pipeline). The next send opens a new one.
    func connectionClosed(_ connection: ClientConnection) {
        let waiters = state.withLock { state -> [SpaceWaiter] in
            guard case .connected(let current) = state.connection, current === connection else { return [] }
            state.connection = .idle
            state.drainScheduled = false
            defer { state.spaceWaiters = [] }
            return state.spaceWaiters
        }
        for waiter in waiters { waiter.continuation.resume() }
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
                state.spaceWaiters = []
                state.connectionWaiters = []
            }
            return (connection, state.spaceWaiters, state.connectionWaiters)
        }
        if let connection, !connection.hasPendingCalls { connection.channel.close(promise: nil) }
        for waiter in spaceWaiters { waiter.continuation.resume() }
        for waiter in connectionWaiters { waiter.resume(throwing: CallFailure.connectionLost("node \(nodeID) left the mesh")) }
    }
}
