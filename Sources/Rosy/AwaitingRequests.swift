import RosyWire
import Synchronization

/// The requests of one read whose handlers may await, answered in as few tasks as those
/// handlers allow.
///
/// A task takes the requests in turn and hands each answer on. When a handler suspends, the
/// task that runs it stops there, and the reader starts another task on the requests left;
/// so every request still starts during the read, as with a task per call, while a run of
/// handlers that return without suspending shares one task (a task costs more than most
/// handlers: creation, the loop as its executor preference, completion).
///
/// ```swift
/// let requests = AwaitingRequests(pending)
/// requests.start(by: dispatcher, executor: loopExecutor) { frame, result in reply(frame, result) }
/// ```
final class AwaitingRequests: Sendable {
    struct Request: Sendable {
        let frame: ServiceRequestFrame
        let handler: ServiceHandler
    }

    private let requests: [Request]
    /// The next request to take; tasks that resume after a suspension take from here too.
    private let next = Atomic<Int>(0)

    init(_ requests: [Request]) {
        self.requests = requests
    }

    /// Every request has been taken by a task (the last may still be running).
    private var allTaken: Bool { next.load(ordering: .relaxed) >= requests.count }

    /// Starts every request on this thread, in order, in as few tasks as the handlers allow;
    /// returns the number of tasks. Each result goes to `answered`, called where its handler
    /// returned: on this thread if it did not suspend, else wherever the task resumed (on
    /// `executor`, when one is given).
    @discardableResult
    func start(
        by dispatcher: InboundDispatcher, executor: (any TaskExecutor)?,
        answered: @escaping @Sendable (ServiceRequestFrame, Result<Value, any Error>) -> Void
    ) -> Int {
        var tasks = 0
        repeat {
            tasks += 1
            // Runs until its handler suspends, or until every request is taken.
            Task.immediate(executorPreference: executor) { await self.answer(by: dispatcher, answered) }
        } while !allTaken
        return tasks
    }

    /// Takes requests in turn until none is left, handing each one's result to `answered`.
    private nonisolated(nonsending) func answer(
        by dispatcher: InboundDispatcher,
        _ answered: (ServiceRequestFrame, Result<Value, any Error>) -> Void
    ) async {
        while true {
            let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
            guard index < requests.count else { return }
            let request = requests[index]
            answered(request.frame, await dispatcher.result(of: request.frame, with: request.handler))
        }
    }
}
