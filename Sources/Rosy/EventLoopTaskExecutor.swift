import NIOCore

/// Runs a task's jobs on one event loop.
///
/// A task started with this preference (`Task(executorPreference:)`) runs on the thread of
/// the loop that reads its connection, as Python rosy runs listeners and services on its
/// asyncio loop: a request read there is answered there and its response written with no
/// thread hop, and a batch of topic messages reaches its listener without waking another
/// thread. A listener or service that computes for long holds that loop meanwhile, as in
/// Python; one that awaits frees it.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        eventLoop.execute { job.runSynchronously(on: executor) }
    }
}
