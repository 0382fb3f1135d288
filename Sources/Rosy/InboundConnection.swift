import Logging
import NIOCore
import RosyWire
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A topic message waiting in a connection's inbox.
enum InboxMessage: Sendable {
    /// Read from the socket (or copied out of the lane).
    case frame(TopicMessageFrame)
    /// Still in the connection's shared-memory lane: decoded there, then released.
    case inLane(LaneTopicMessage)
}

/// The topic messages read from one connection and not yet handled, in order.
///
/// The event loop appends a batch per read; one task per connection takes batches and
/// hands each message to its listener, one at a time. When too much is waiting the
/// connection stops reading (back-pressure on the sender) until the task catches up.
final class TopicInbox: Sendable {
    static let highWatermarkMessages = 4096
    static let highWatermarkBytes = 8 * 1024 * 1024

    private struct State {
        var batches: CircularBuffer<[InboxMessage]> = []
        var messages = 0
        var bytes = 0
        var finished = false
        var paused = false
        var waiter: CheckedContinuation<[InboxMessage]?, Never>?
    }
    private let state = Mutex(State())
    /// Called (from the consumer task) when reading may resume.
    private let resume: @Sendable () -> Void

    init(resume: @escaping @Sendable () -> Void) {
        self.resume = resume
    }

    /// Appends a batch; returns whether reading should pause.
    func append(_ batch: [InboxMessage], bytes: Int) -> Bool {
        let (waiter, pause) = state.withLock { state -> (CheckedContinuation<[InboxMessage]?, Never>?, Bool) in
            state.messages += batch.count
            state.bytes += bytes
            let pause = state.messages >= Self.highWatermarkMessages || state.bytes >= Self.highWatermarkBytes
            if pause { state.paused = true }
            if let waiter = state.waiter {
                state.waiter = nil
                return (waiter, pause)
            }
            state.batches.append(batch)
            return (nil, pause)
        }
        waiter?.resume(returning: batch)
        return pause
    }

    /// No more batches will come; the consumer ends after the ones already queued.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<[InboxMessage]?, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The next batch, or `nil` once finished and empty.
    func next() async -> [InboxMessage]? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> [InboxMessage]?? in
                if let batch = state.batches.popFirst() { return .some(batch) }
                if state.finished { return .some(nil) }
                state.waiter = continuation
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// The consumer handled `count` messages of `bytes` bytes.
    func consumed(count: Int, bytes: Int) {
        let shouldResume = state.withLock { state -> Bool in
            state.messages -= count
            state.bytes -= bytes
            guard state.paused, state.messages < Self.highWatermarkMessages / 2,
                  state.bytes < Self.highWatermarkBytes / 2 else { return false }
            state.paused = false
            return true
        }
        if shouldResume { resume() }
    }

    static func size(of message: InboxMessage) -> Int {
        switch message {
        case .frame(let frame): size(of: frame)
        case .inLane(let message): 16 + Int(message.reference.length)
        }
    }

    static func size(of frame: TopicMessageFrame) -> Int {
        var bytes = 16 + frame.topic.utf8.count
        for arg in frame.arguments.args { bytes += arg.readableBytes }
        for kwarg in frame.arguments.kwargs { bytes += kwarg.data.readableBytes }
        return bytes
    }
}

/// The server side of one connection from a peer: topic messages go to a ``TopicInbox``
/// (handled in order); service requests are answered inline (handlers that do not await)
/// or in a task each (handlers that await), and the answers gathered by the end of a read
/// or a loop pass leave in one write, or every ``answersFlushCount`` answers.
/// A framing error closes this connection with one log line.
///
/// It decodes frames itself (a ``FrameAssembler``, no pipeline hop per frame).
final class InboundConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let dispatcher: InboundDispatcher
    private let logger: Logger
    private var assembler: FrameAssembler<InboundFrameDecoder>
    private var failed = false
    private var inbox: TopicInbox?
    private var batch: [InboxMessage] = []
    private var batchBytes = 0
    private var readHeld = false
    private var paused = false
    /// Where this connection's listeners and services run: its own event loop.
    private let executor: EventLoopTaskExecutor
    /// TCP only: wake up for a large frame's data in large pieces.
    private var readLowWatermark: ReadLowWatermark?
    /// The last service looked up, so that a run of calls to one service takes no lock.
    private var serviceCache = InboundDispatcher.ServiceCache()
    /// Answers of immediate handlers to the requests of this read, sent together when the
    /// read is done, or once they are `answersFlushCount` or pass `responsesFlushBytes`.
    private var responses = ByteBuffer()
    private var answersUnsent = 0
    private static let responsesCapacity = 1024
    private static let responsesFlushBytes = 64 * 1024
    /// A read of many requests (a caller's batches that piled up) is answered in parts: the
    /// caller works on the first answers while the rest are computed, instead of both sides
    /// taking turns (64 calls in flight: 0.75–1.05 M calls/s without, 0.98–1.05 M with 16,
    /// bench/PERF-NOTES.md).
    private static let answersFlushCount = 16
    /// Answers in `responses` from tasks (handlers that await): they count in the
    /// dispatcher's `requestsInFlight` until written.
    private var taskAnswersUnwritten = 0
    /// Requests of the read being decoded whose handlers may await, started at its end.
    private var awaiting: [AwaitingRequests.Request] = []
    /// A read is being handled: `channelReadComplete` will write `responses`.
    private var reading = false
    /// A write of `responses` is queued on the loop (for answers that came between reads).
    private var writeQueued = false
    /// This handler and its context as the tasks of handlers that await reach them (on the loop).
    private var context: ChannelHandlerContext?
    private var loopBoundSelf: NIOLoopBound<InboundConnectionHandler>?
    /// Whether this node accepts a client's offer of a ``SharedMemoryLane``.
    private let acceptsLanes: Bool
    /// The client's lane, once accepted: `m` frames are read from it.
    private var lane: LaneReader?
    /// The lane was accepted during this read: the decoder reads `m` frames once it is done.
    private var laneAccepted = false
    private let maximumMessageSize: Int

    init(dispatcher: InboundDispatcher, logger: Logger, maximumMessageSize: Int, eventLoop: any EventLoop,
         acceptsLanes: Bool = false) {
        self.dispatcher = dispatcher
        self.logger = logger
        self.executor = EventLoopTaskExecutor(eventLoop)
        self.assembler = FrameAssembler(InboundFrameDecoder(maximumMessageSize: maximumMessageSize))
        self.acceptsLanes = acceptsLanes
        self.maximumMessageSize = maximumMessageSize
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBoundContext = NIOLoopBound(context, eventLoop: context.eventLoop)
        let loopBoundSelf = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.loopBoundSelf = loopBoundSelf
        self.context = context
        let eventLoop = context.eventLoop
        let inbox = TopicInbox(resume: {
            eventLoop.execute {
                loopBoundSelf.value.resumeReading(context: loopBoundContext.value)
            }
        })
        self.inbox = inbox
        let dispatcher = self.dispatcher
        if let address = context.channel.localAddress, address.protocol != .unix {
            readLowWatermark = ReadLowWatermark()
        }
        Task(executorPreference: executor) {
            var cache = InboundDispatcher.ListenerCache()
            var closing = false  // data that could not be decoded came: nothing more is delivered
            while let batch = await inbox.next() {
                var bytes = 0
                for message in batch {
                    bytes += TopicInbox.size(of: message)
                    if closing {
                        if case .inLane(let message) = message { message.release() }
                        continue
                    }
                    switch dispatcher.prepare(message, cache: &cache) {
                    case .deliver(let listener, let message):
                        await dispatcher.deliver(message, to: listener)
                    case .unheard:
                        break
                    case .undecodable(let error):
                        closing = true
                        eventLoop.execute {
                            loopBoundSelf.value.fail(context: loopBoundContext.value, error: error)
                        }
                    }
                }
                inbox.consumed(count: batch.count, bytes: bytes)
            }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.loopBoundSelf = nil
        lane = nil
        // The inbox's resume closure holds this handler and its context (so the channel and
        // its pipeline): dropping the inbox here breaks that cycle. The consumer task keeps
        // its own reference until it has handled what is queued.
        inbox?.finish()
        inbox = nil
        // Answers that will never be written no longer hold up a stopping node.
        dispatcher.requestsInFlight.subtract(taskAnswersUnwritten, ordering: .relaxed)
        taskAnswersUnwritten = 0
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        reading = true
        defer { reading = false }
        // The batch lives in locals while frames are decoded: a stored property of a class
        // costs a dynamic exclusivity check on every access, that is per message.
        var batch = self.batch
        self.batch = []
        var batchBytes = self.batchBytes
        do {
            // Each frame read, from the socket or (through an `m` frame) from the lane.
            func take(_ frame: InboundFrame) throws {
                switch frame {
                case .topicMessage(let frame):
                    batchBytes += TopicInbox.size(of: frame)
                    batch.append(.frame(frame))
                case .serviceRequest(let request):
                    handle(request, context: context)
                case .sharedMemoryReference(let reference):
                    guard lane != nil else { throw FrameError.badSharedMemoryReference("no lane on this connection") }
                    if let message = try lane!.borrowTopicMessage(reference, maximumMessageSize: maximumMessageSize) {
                        let inLane = InboxMessage.inLane(message)
                        batchBytes += TopicInbox.size(of: inLane)
                        batch.append(inLane)
                    } else {
                        try readLane(reference, context: context, each: take)
                    }
                }
            }
            try assembler.process(Self.unwrapInboundIn(data), take)
            if laneAccepted {
                laneAccepted = false
                assembler.updateDecoder { $0.acceptsSharedMemoryReferences = true }
            }
            self.batch = batch
            self.batchBytes = batchBytes
            startAwaitingHandlers(context: context)
        } catch {
            self.batch = batch
            self.batchBytes = batchBytes
            startAwaitingHandlers(context: context)  // the requests before the bad frame are answered
            fail(context: context, error: error)
        }
    }

    /// The frames an `m` frame points at when they are not one topic message (those stay in
    /// the lane until decoded), copied out of the lane and handed to `each` as if
    /// read from the socket (the decoder here reads no `m` frame: one inside the lane is an
    /// error, as are bytes that are not whole frames).
    private func readLane(
        _ reference: SharedMemoryReference, context: ChannelHandlerContext, each: (InboundFrame) throws -> Void
    ) throws {
        var frames = try lane!.take(reference, allocator: context.channel.allocator)
        var decoder = InboundFrameDecoder(maximumMessageSize: maximumMessageSize)
        while frames.readableBytes > 0 {
            guard let frame = try decoder.decode(buffer: &frames) else {
                throw FrameError.badSharedMemoryReference("\(reference.length) bytes that are not whole frames")
            }
            try each(frame)
        }
    }

    /// A client offers its lane: map it and answer `True`, or answer why not.
    private func acceptLane(_ request: ServiceRequestFrame, context: ChannelHandlerContext) {
        do {
            guard acceptsLanes else { throw LaneError("shared memory is off on this node") }
            guard lane == nil else { throw LaneError("this connection has a lane already") }
            let (args, _) = try request.arguments.decoded(with: dispatcher.codec)
            guard args.count == 3, let path = args[0].stringValue, let cookie = args[1].intValue,
                  let size = args[2].intValue else { throw LaneError("an offer is (path, cookie, size)") }
            lane = try LaneReader(
                path: path, cookie: UInt64(bitPattern: cookie), ringSize: Int(size), largest: 256 * 1024 * 1024)
            laneAccepted = true
            try FrameEncoder.writeServiceResult(id: request.id, result: true, codec: dispatcher.codec, into: &responses)
        } catch {
            logger.debug("Refused a shared-memory lane: \(error)")
            FrameEncoder.writeServiceError(id: request.id, message: "\(error)", into: &responses)
        }
        answerAdded(context: context)
    }

    private func handle(_ request: ServiceRequestFrame, context: ChannelHandlerContext) {
        if request.service == SharedMemoryLane.offerService {
            acceptLane(request, context: context)
            return
        }
        guard let service = dispatcher.service(request.service, cache: &serviceCache) else {
            dispatcher.refuse(request, into: &responses)
            return
        }
        switch service.answer {
        case .immediate(let handler):
            dispatcher.respond(to: request, with: handler, into: &responses)
            answerAdded(context: context)
        case .concurrent(let handler):
            // Started once the read is decoded, with the others of the read (see
            // `startAwaitingHandlers`).
            dispatcher.requestsInFlight.add(1, ordering: .relaxed)
            awaiting.append(AwaitingRequests.Request(frame: request, handler: handler))
        }
    }

    /// Starts the handlers of this read's requests that may await, each at once on this
    /// thread: a handler that awaits nothing that suspends answers within this read, like an
    /// immediate one. They share a task until one suspends; then the rest go on in another.
    private func startAwaitingHandlers(context: ChannelHandlerContext) {
        guard !awaiting.isEmpty else { return }
        let pending = awaiting
        awaiting = []
        guard let handlerOnLoop = loopBoundSelf else {
            // The handler is gone (no read comes after that): nothing will answer them.
            dispatcher.requestsInFlight.subtract(pending.count, ordering: .relaxed)
            return
        }
        let requests = AwaitingRequests(pending)
        let eventLoop = context.eventLoop
        requests.start(by: dispatcher, executor: executor) { request, result in
            if eventLoop.inEventLoop {
                handlerOnLoop.value.answered(request, with: result)
            } else {
                eventLoop.execute { handlerOnLoop.value.answered(request, with: result) }
            }
        }
    }

    /// A task's answer (on the event loop): encoded straight into the others, written at the
    /// end of the read that is being handled (or once they are `answersFlushCount`), or of
    /// this loop pass.
    private func answered(_ request: ServiceRequestFrame, with result: Result<Value, any Error>) {
        guard let context, let handlerOnLoop = loopBoundSelf else {
            dispatcher.requestsInFlight.subtract(1, ordering: .relaxed)  // the connection is gone
            return
        }
        dispatcher.respond(to: request, with: result, into: &responses)
        taskAnswersUnwritten += 1
        if reading {
            answerAdded(context: context)
            return
        }
        answersUnsent += 1
        if writeQueued { return }
        writeQueued = true
        context.eventLoop.execute {
            let handler = handlerOnLoop.value
            handler.writeQueued = false
            if let context = handler.context { handler.writeResponses(context: context) }
        }
    }

    /// One more answer in `responses` during a read: they leave once they are
    /// `answersFlushCount` or pass `responsesFlushBytes` (else at the read's end).
    private func answerAdded(context: ChannelHandlerContext) {
        answersUnsent += 1
        if answersUnsent >= Self.answersFlushCount || responses.readableBytes >= Self.responsesFlushBytes {
            writeResponses(context: context)
        }
    }

    /// Sends the responses gathered so far in one write.
    private func writeResponses(context: ChannelHandlerContext) {
        guard responses.readableBytes > 0 else { return }
        answersUnsent = 0
        let fromTasks = taskAnswersUnwritten
        taskAnswersUnwritten = 0
        if fromTasks == 0 {
            context.writeAndFlush(Self.wrapOutboundOut(responses), promise: nil)
        } else {
            let dispatcher = self.dispatcher
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenComplete { _ in dispatcher.requestsInFlight.subtract(fromTasks, ordering: .relaxed) }
            context.writeAndFlush(Self.wrapOutboundOut(responses), promise: written)
        }
        // The write is usually done by now, so the buffer is this handler's alone again:
        // cleared, it takes the next answers with no allocation (one still shared with a
        // pending write gets fresh storage; one grown past `responsesFlushBytes` is let go).
        if responses.capacity <= Self.responsesFlushBytes {
            responses.clear()
        } else {
            responses = context.channel.allocator.buffer(capacity: Self.responsesCapacity)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        writeResponses(context: context)
        readLowWatermark?.follow(missingBytes: assembler.missingBytes, channel: context.channel)
        flushBatch()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !failed {
            do {
                try assembler.finish()
            } catch {
                fail(context: context, error: error)
            }
        }
        flushBatch()
        inbox?.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(context: context, error: error)
    }

    /// Logs one line and closes the connection; nothing more is read from it.
    private func fail(context: ChannelHandlerContext, error: Error) {
        guard !failed else { return }
        failed = true
        let peer: String
        if let address = context.remoteAddress, address.protocol != .unix {
            peer = "\(address)"
        } else {
            peer = "a peer on the Unix socket"
        }
        if error is FrameError {
            logger.error("Closing connection from \(peer): \(error)")
        } else {
            logger.debug("Closing connection from \(peer): \(error)")
        }
        flushBatch()
        writeResponses(context: context)  // the requests before the bad frame are answered
        context.close(promise: nil)
    }

    func read(context: ChannelHandlerContext) {
        if paused {
            readHeld = true
        } else {
            context.read()
        }
    }

    private func flushBatch() {
        guard !batch.isEmpty, let inbox else { return }
        if inbox.append(batch, bytes: batchBytes) { paused = true }
        batch = []
        batch.reserveCapacity(64)
        batchBytes = 0
    }

    private func resumeReading(context: ChannelHandlerContext) {
        paused = false
        if readHeld {
            readHeld = false
            context.read()
        }
    }
}

/// While a large frame arrives over TCP, the socket reports itself readable only once a
/// good part of the frame's missing bytes is there (`SO_RCVLOWAT`), never more than the frame
/// still needs: a 1 MB message then takes a few wake-ups and reads instead of one per TCP
/// window update (a quarter of the receiver's time). Between frames it is back at one byte.
private struct ReadLowWatermark {
    /// Frames missing fewer bytes than this wake up as usual.
    static let threshold = 128 * 1024
    /// The most bytes waited for at once.
    static let ceiling = 512 * 1024
    private static let option = ChannelOptions.Types.SocketOption(
        level: .socket, name: NIOBSDSocket.Option(rawValue: CInt(SO_RCVLOWAT)))

    private var current = 1
    private var failed = false

    mutating func follow(missingBytes: Int, channel: any Channel) {
        guard !failed else { return }
        let wanted = missingBytes >= Self.threshold ? min(missingBytes, Self.ceiling) : 1
        guard wanted != current else { return }
        do {
            try channel.syncOptions?.setOption(Self.option, value: wanted)
            current = wanted
        } catch {
            // The socket refused it: wake up as usual from now on.
            failed = true
            try? channel.syncOptions?.setOption(Self.option, value: 1)
        }
    }
}
