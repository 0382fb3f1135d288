import Logging
import NIOCore
import RosyWire
import Synchronization

/// Why a pending service call ended without a response.
enum CallFailure: Error {
    case connectionLost(String)
    case timeout
    case tooManyCalls
    /// The request could not be encoded (nothing was sent): the codec's or frame's error.
    case unencodable(any Error)
}

/// One open connection to a peer's server: the channel, and the service calls waiting
/// for a response on it (matched by their u16 id; ids are reused after the response).
final class ClientConnection: Sendable, EventLoopTaskExecutor.FollowUp {
    let channel: any Channel
    /// The channel's loop and allocator, kept: asking the channel costs a retain and a
    /// release per call.
    private let eventLoop: any EventLoop
    private let allocator: ByteBufferAllocator
    let isClosed = Atomic<Bool>(false)

    private struct Pending {
        var token: UInt64
        var continuation: UnsafeContinuation<ServiceResponseFrame.Outcome, any Error>
        var timer: Scheduled<Void>?
    }
    private struct State {
        var pending = PendingCalls<Pending>()
        var nextToken: UInt64 = 0
        var closedReason: String?
    }
    private let state = Mutex(State())

    /// Requests written since the last flush: sent together once the loop has run every
    /// job that was ready, or as soon as they are ``batchLimit``.
    private struct Unsent {
        var requests: ByteBuffer?
        var count = 0
        /// The last batch's buffer, written and cleared: the next batch's, with no allocation.
        var spare: ByteBuffer?

        /// Encodes one more request into the batch (a new one if there is none); whether
        /// the batch is new and whether it is full. One access to the loop-bound box per
        /// request: each checks the thread and the exclusivity of the access.
        mutating func add(
            allocator: ByteBufferAllocator, _ encode: (inout ByteBuffer) throws -> Void
        ) rethrows -> (new: Bool, full: Bool) {
            guard requests != nil else {
                var batch = spare ?? allocator.buffer(capacity: ClientConnection.batchCapacity)
                spare = nil
                do {
                    try encode(&batch)
                } catch {
                    spare = batch  // as it was: the encoder leaves it so when it throws
                    throw error
                }
                requests = batch
                count = 1
                return (true, count >= ClientConnection.batchLimit)
            }
            try encode(&requests!)
            count += 1
            return (false, count >= ClientConnection.batchLimit)
        }

        /// The batch, to be written; the next request starts another.
        mutating func take() -> ByteBuffer? {
            defer { requests = nil; count = 0 }
            return requests
        }

        /// Keeps a written batch's buffer, cleared, for the next batch.
        mutating func keep(_ written: consuming ByteBuffer) {
            written.clear()
            spare = written
        }
    }
    private let unsent: NIOLoopBoundBox<Unsent>
    /// Requests sent together at most. Many callers at once then keep several batches in
    /// flight, so the provider answers one while the caller writes the next; one batch of
    /// all of them would leave each side idle while the other works (64 in flight:
    /// 0.36 → 0.58 M calls/s with 16, bench/PERF-NOTES.md).
    static let batchLimit = 16

    /// The executor of the node's tasks on this connection's loop (``Node/taskExecutor``),
    /// if it is this loop's: a batch that one of its drains starts is flushed at the end of
    /// that drain, with no loop task of its own.
    private let homeExecutor: EventLoopTaskExecutor?

    /// This connection's ``SharedMemoryLane``: not offered yet, being offered, open, or not
    /// to be had (the peer is elsewhere, refused, or lanes are off).
    private enum Lane {
        case unoffered
        case offering
        case open(LaneWriter)
        case unavailable
    }
    private let lane: NIOLoopBoundBox<Lane>
    /// The node's codec, for the lane's offer (its arguments are plain values).
    private let laneCodec: (any MessageCodec)?
    private let logger: Logger?
    /// Frames waiting for room in the lane, in order.
    private let laneBacklog: NIOLoopBoundBox<CircularBuffer<Outbox.Writes.Buffer>>
    /// The link whose outbox waits while frames wait for the lane.
    private let link: PeerLink?

    /// `laneCodec`: offer a shared-memory lane on this connection when the first large frame
    /// is sent (nil: never).
    init(channel: any Channel, homeExecutor: EventLoopTaskExecutor? = nil,
         laneCodec: (any MessageCodec)? = nil, logger: Logger? = nil, link: PeerLink? = nil) {
        self.channel = channel
        self.eventLoop = channel.eventLoop
        self.allocator = channel.allocator
        self.unsent = NIOLoopBoundBox(Unsent(), eventLoop: channel.eventLoop)
        self.homeExecutor = homeExecutor.flatMap { $0.eventLoop === channel.eventLoop ? $0 : nil }
        self.lane = NIOLoopBoundBox(laneCodec == nil ? .unavailable : .unoffered, eventLoop: channel.eventLoop)
        self.laneCodec = laneCodec
        self.logger = logger
        self.laneBacklog = NIOLoopBoundBox(CircularBuffer(), eventLoop: channel.eventLoop)
        self.link = link
    }

    // MARK: Shared-memory lane

    /// Writes whole frames, in order with the others written this way (on the event loop;
    /// `flush` follows). One large frame goes into the lane when it is open: the socket
    /// carries an `m` frame instead (a run of small frames, however long, goes as it is). While the lane is full, frames wait here, in order (the receiver
    /// is behind: going through the socket would only give it more work), and the link's
    /// outbox waits for ``isHoldingFrames`` to end, as for a socket that is not writable.
    func write(_ frames: Outbox.Writes.Buffer) {
        guard laneBacklog.value.isEmpty else {
            laneBacklog.value.append(frames)
            return
        }
        if writeUnlessLaneFull(frames) { return }
        SharedMemoryLane.framesHeld.add(1, ordering: .relaxed)
        laneBacklog.value.append(frames)
        scheduleLaneRetry()
    }

    /// Writes `frames`, or their `m` frame when they go into the lane; false (nothing
    /// written) when the lane has no room for them yet.
    private func writeUnlessLaneFull(_ frames: Outbox.Writes.Buffer) -> Bool {
        switch placement(of: frames) {
        case .socket: channel.write(frames.bytes(allocator: allocator), promise: nil)
        case .lane(let reference): channel.write(reference, promise: nil)
        case .laneFull: return false
        }
        return true
    }

    /// Frames wait for room in the lane: the link's outbox stays queued until they are gone.
    var isHoldingFrames: Bool { !laneBacklog.value.isEmpty }

    private enum Placement {
        case socket
        case lane(ByteBuffer)
        case laneFull
    }

    /// Where `frames` go: the first large frames start the lane's offer and go through the
    /// socket meanwhile.
    private func placement(of frames: Outbox.Writes.Buffer) -> Placement {
        guard frames.isOneLargeFrame, frames.size >= SharedMemoryLane.threshold,
              frames.size <= SharedMemoryLane.largestFrame else { return .socket }
        switch lane.value {
        case .open(let writer):
            guard let reference = writer.place(frames.frame) else { return .laneFull }
            var frame = allocator.buffer(capacity: SharedMemoryReference.encodedSize)
            FrameEncoder.writeSharedMemoryReference(reference, into: &frame)
            return .lane(frame)
        case .unoffered:
            offerLane()
            return .socket
        case .offering, .unavailable:
            return .socket
        }
    }

    /// How long frames wait before the lane is looked at again (the receiver says nothing
    /// when it makes room; a 1 MB frame takes it about 100 µs).
    static let laneRetryDelay = TimeAmount.microseconds(50)

    private func scheduleLaneRetry() {
        eventLoop.scheduleTask(in: Self.laneRetryDelay) { [self] in retryLane() }
    }

    /// Places what waited, in order, as far as there is room; then lets the link drain again.
    private func retryLane() {
        var wrote = false
        while let frames = laneBacklog.value.first {
            guard writeUnlessLaneFull(frames) else {
                if wrote { channel.flush() }
                scheduleLaneRetry()
                return
            }
            laneBacklog.value.removeFirst()
            wrote = true
        }
        if wrote { channel.flush() }
        link?.drain(self)
    }

    /// Makes the lane's memory and offers it to the peer (on the event loop).
    private func offerLane() {
        guard let codec = laneCodec else { return }
        let writer: LaneWriter
        do {
            writer = try LaneWriter()
        } catch {
            logger?.debug("No shared-memory lane to \(channel.remoteAddress.map { "\($0)" } ?? "peer"): \(error)")
            lane.value = .unavailable
            return
        }
        lane.value = .offering
        let args: [Value] = [.string(writer.path), .int(Int64(bitPattern: writer.cookie)), .int(Int64(writer.memory.ringSize))]
        let box = NIOLoopBound(writer, eventLoop: eventLoop)
        Task { [self] in
            let accepted: Result<Void, any Error>
            do {
                let outcome = try await call(timeout: .seconds(5), estimatedSize: 256) { id, buffer in
                    try FrameEncoder.writeServiceRequest(
                        id: id, service: SharedMemoryLane.offerService, args: args, kwargs: [:], codec: codec, into: &buffer)
                }
                switch outcome {
                case .success: accepted = .success(())
                case .failure(let text): accepted = .failure(LaneError(text))
                }
            } catch {
                accepted = .failure(error)
            }
            eventLoop.execute { [self] in
                let writer = box.value
                writer.closeDescriptor()
                switch accepted {
                case .success:
                    lane.value = .open(writer)
                    SharedMemoryLane.lanesOpened.add(1, ordering: .relaxed)
                case .failure(let error):
                    lane.value = .unavailable
                    logger?.debug("Peer refused the shared-memory lane: \(error)")
                }
            }
        }
    }

    /// Sends a service request and waits for the response. `encode` appends the request
    /// frame with the id given; on the event loop a small one goes straight into the batch
    /// of requests that leave together (no buffer of its own, no copy). A request estimated
    /// larger than ``Outbox/coalesceLimit`` gets a buffer of its own, sized for it.
    nonisolated(nonsending) func call(
        timeout: TimeAmount?, estimatedSize: Int, encode: (UInt16, inout ByteBuffer) throws -> Void
    ) async throws -> ServiceResponseFrame.Outcome {
        try await withUnsafeThrowingContinuation { continuation in
            let registered = state.withLock { state -> Result<(UInt16, UInt64), CallFailure> in
                if let reason = state.closedReason { return .failure(.connectionLost(reason)) }
                state.nextToken += 1
                let call = Pending(token: state.nextToken, continuation: continuation, timer: nil)
                guard let id = state.pending.insert(call) else { return .failure(.tooManyCalls) }
                return .success((id, state.nextToken))
            }
            guard case .success(let (id, token)) = registered else {
                if case .failure(let failure) = registered { continuation.resume(throwing: failure) }
                return
            }
            do {
                let large = estimatedSize > Outbox.coalesceLimit
                if eventLoop.inEventLoop && !large {
                    try append { try encode(id, &$0) }
                } else {
                    var request = allocator.buffer(capacity: estimatedSize)
                    try encode(id, &request)
                    if eventLoop.inEventLoop {
                        sendAlone(request)
                    } else {
                        eventLoop.execute { [request] in large ? self.sendAlone(request) : self.append(request) }
                    }
                }
            } catch {
                fail(id: id, token: token, with: .unencodable(error))
                return
            }
            if let timeout {
                let timer = eventLoop.scheduleTask(in: timeout) { [self] in
                    self.fail(id: id, token: token, with: .timeout)
                }
                let set = state.withLock { state in
                    state.pending.modify(id) { call -> Bool in
                        guard call.token == token else { return false }
                        call.timer = timer
                        return true
                    }
                }
                if set != true { timer.cancel() }
            }
        }
    }

    /// A new batch's first capacity.
    private static let batchCapacity = 1024

    /// Adds a request to the batch (on the event loop). The batch leaves once the loop has
    /// run every job that was ready (requests sent together go in one syscall): at the end
    /// of the node's drain that started it, else in a loop task; or as soon as it holds
    /// ``batchLimit``. A failed write closes the channel, which fails every waiting call
    /// (``closed(reason:)``). `encode` leaves the batch as it was if it throws.
    private func append(_ encode: (inout ByteBuffer) throws -> Void) rethrows {
        let batch = try unsent.value.add(allocator: allocator, encode)
        if batch.new, homeExecutor?.runAfterJobs(self) != true {
            eventLoop.execute { [self] in flushUnsent() }
        }
        if batch.full { flushUnsent() }
    }

    /// Adds a request encoded off the event loop (on the loop).
    private func append(_ request: ByteBuffer) {
        append { $0.writeImmutableBuffer(request) }
    }

    /// Writes a large request as it is, after the batch so far (on the event loop).
    private func sendAlone(_ request: ByteBuffer) {
        flushUnsent()
        write(Outbox.Writes.Buffer(bytes: request, isOneLargeFrame: true))
        channel.flush()
    }

    /// The node's drain that started the batch has run its jobs.
    func afterJobs() {
        flushUnsent()
    }

    private func flushUnsent() {
        guard let requests = unsent.value.take() else { return }
        channel.writeAndFlush(requests, promise: nil)
        // Usually written by now, so the buffer is ours alone again (else `clear` gives it
        // fresh storage); one grown large is let go.
        if requests.capacity <= Self.batchCapacity * 16 {
            unsent.value.keep(consume requests)
        }
    }

    /// Whether calls wait for a response on this connection.
    var hasPendingCalls: Bool { state.withLock { !$0.pending.isEmpty } }

    /// A response came (on the event loop).
    func complete(_ response: ServiceResponseFrame, logger: Logger) {
        let pending = state.withLock { $0.pending.remove(response.id) }
        guard let pending else {
            logger.warning("Received a response for unknown request id=\(response.id); ignored")
            return
        }
        pending.timer?.cancel()
        pending.continuation.resume(returning: response.outcome)
    }

    /// The connection closed: every waiting call fails now, and later calls fail at once.
    func closed(reason: String) {
        isClosed.store(true, ordering: .sequentiallyConsistent)
        let pending = state.withLock { state -> [Pending] in
            if state.closedReason == nil { state.closedReason = reason }
            return state.pending.removeAll()
        }
        for call in pending {
            call.timer?.cancel()
            call.continuation.resume(throwing: CallFailure.connectionLost(reason))
        }
    }

    private func fail(id: UInt16, token: UInt64, with failure: CallFailure) {
        let pending = state.withLock { $0.pending.remove(id) { $0.token == token } }
        pending?.timer?.cancel()
        pending?.continuation.resume(throwing: failure)
    }
}

/// The client side of a connection's pipeline: decodes responses (a ``FrameAssembler``, no
/// pipeline hop per frame) and routes them to their calls, tells the link when the
/// connection closes or becomes writable again. A framing error closes the connection.
final class ClientConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let connection: ClientConnection
    private let link: PeerLink
    private let logger: Logger
    private var assembler: FrameAssembler<ServiceResponseDecoder>
    private var error: (any Error)?

    init(connection: ClientConnection, link: PeerLink, logger: Logger, maximumMessageSize: Int) {
        self.connection = connection
        self.link = link
        self.logger = logger
        self.assembler = FrameAssembler(ServiceResponseDecoder(maximumMessageSize: maximumMessageSize))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard error == nil else { return }
        let connection = self.connection
        let logger = self.logger
        do {
            try assembler.process(Self.unwrapInboundIn(data)) { response in
                connection.complete(response, logger: logger)
            }
        } catch {
            errorCaught(context: context, error: error)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { link.drain(connection) }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if error == nil {
            do {
                try assembler.finish()
            } catch {
                errorCaught(context: context, error: error)
            }
        }
        // The link lets go of the connection first: a call that its failure wakes up and
        // that calls again then opens a new connection instead of meeting this closed one.
        link.connectionClosed(connection)
        connection.closed(reason: error.map { "\($0)" } ?? "connection to \(link.nodeID) closed")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if self.error == nil {
            self.error = error
            if error is FrameError {
                logger.error("Closing connection to \(link.nodeID): \(error)")
            } else {
                logger.debug("Closing connection to \(link.nodeID): \(error)")
            }
        }
        context.close(promise: nil)
    }
}
