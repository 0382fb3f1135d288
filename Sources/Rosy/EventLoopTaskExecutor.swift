import NIOCore

/// Runs a task's jobs on one event loop.
///
/// A task started with this preference (`Task(executorPreference:)`) runs on the thread of
/// the loop that reads its connection, as Python rosy runs listeners and services on its
/// asyncio loop: a request read there is answered there and its response written with no
/// thread hop, and a batch of topic messages reaches its listener without waking another
/// thread. A listener or service that computes for long holds that loop meanwhile, as in
/// Python; one that awaits frees it.
///
/// Jobs enqueued on the loop itself (a response read there resumes the call waiting for it)
/// wait in a queue of the executor's own, run together by one loop task: no closure and no
/// lock per job. Jobs that a drain enqueues run in the next drain, after the loop has had a
/// turn at I/O, so a task that resumes itself again and again cannot starve the sockets.
/// What those jobs leave to do once they have all run (a batch of requests to flush) runs
/// at the end of the same drain (``runAfterJobs(_:)``): no loop task of its own.
final class EventLoopTaskExecutor: TaskExecutor {
    /// Work that the jobs of a drain leave for after them: a class, so that queueing it
    /// allocates nothing (a closure's context would be an allocation per drain).
    protocol FollowUp: AnyObject {
        /// Runs on the loop, once every job of the drain has run.
        func afterJobs()
    }

    let eventLoop: any EventLoop

    private struct Queue {
        var jobs: [UnownedJob] = []
        /// Storage of an earlier drain, kept to be the next queue's.
        var spare: [UnownedJob] = []
        var drainScheduled = false
        /// A drain is running its jobs; `afterJobs` is what runs once they have.
        var draining = false
        var afterJobs: [any FollowUp] = []
        /// Storage of an earlier drain's `afterJobs`.
        var spareAfterJobs: [any FollowUp] = []

        /// The jobs queued so far; the queue goes on in the spare storage.
        mutating func take() -> [UnownedJob] {
            let taken = jobs
            jobs = spare
            spare = []
            drainScheduled = false
            draining = true
            return taken
        }

        /// The drain's jobs have run: what they left to do after them, if anything.
        mutating func finishJobs() -> [any FollowUp]? {
            draining = false
            guard !afterJobs.isEmpty else { return nil }
            let taken = afterJobs
            afterJobs = spareAfterJobs
            spareAfterJobs = []
            return taken
        }
    }
    private let queue: NIOLoopBoundBox<Queue>

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        self.queue = .makeBoxSendingValue(Queue(), eventLoop: eventLoop)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        guard eventLoop.inEventLoop else {
            eventLoop.execute { [self] in enqueueOnLoop(job) }
            return
        }
        enqueueOnLoop(job)
    }

    private func enqueueOnLoop(_ job: UnownedJob) {
        queue.value.jobs.append(job)
        if !queue.value.drainScheduled {
            queue.value.drainScheduled = true
            eventLoop.execute { [self] in drain() }
        }
    }

    /// Runs `work` (on the loop) once the jobs of the drain that is running them have run,
    /// and returns `true`; returns `false` and runs nothing when no drain of this executor
    /// runs now. A job that starts a batch (the requests its task sends) has it flushed
    /// there: whatever the other jobs of the drain add leaves with it, in one write.
    func runAfterJobs(_ work: any FollowUp) -> Bool {
        guard queue.value.draining else { return false }
        queue.value.afterJobs.append(work)
        return true
    }

    /// Runs the jobs queued so far (on the loop), then what they left to run after them.
    private func drain() {
        var jobs = queue.value.take()
        let executor = asUnownedTaskExecutor()
        for job in jobs { job.runSynchronously(on: executor) }
        jobs.removeAll(keepingCapacity: true)
        queue.value.spare = jobs
        guard var afterJobs = queue.value.finishJobs() else { return }
        for work in afterJobs { work.afterJobs() }
        afterJobs.removeAll(keepingCapacity: true)
        queue.value.spareAfterJobs = afterJobs
    }
}
