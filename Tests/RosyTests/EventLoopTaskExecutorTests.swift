import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
@testable import Rosy
import XCTest

final class EventLoopTaskExecutorTests: XCTestCase {
    /// What the jobs of a drain leave to run after them runs once every job of that drain
    /// has run, on the loop, in the order it was left; outside a drain nothing is taken.
    func testWhatJobsLeaveRunsAfterEveryJobOfTheirDrain() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let executor = EventLoopTaskExecutor(loop)
        let events = NIOLockedValueBox<[String]>([])

        let outside = try await loop.submit { executor.runAfterJobs(Note("never", events, loop)) }.get()
        XCTAssertFalse(outside, "a loop task is no drain")

        // Three tasks whose first jobs are queued from the loop itself run in one drain.
        let tasks = try await loop.submit {
            (0..<3).map { n in
                Task(executorPreference: executor) {
                    let taken = executor.runAfterJobs(Note("after \(n)", events, loop))
                    events.withLockedValue { $0.append("job \(n)") }
                    return taken
                }
            }
        }.get()
        for task in tasks {
            let taken = await task.value
            XCTAssertTrue(taken, "left by a job of a drain")
        }
        try await loop.submit {}.get()  // the drain has finished
        XCTAssertEqual(events.withLockedValue { $0 }, ["job 0", "job 1", "job 2", "after 0", "after 1", "after 2"])
        try await group.shutdownGracefully()
    }
}

/// Notes that it ran, and checks that it ran on the loop.
private final class Note: EventLoopTaskExecutor.FollowUp, Sendable {
    let text: String
    let events: NIOLockedValueBox<[String]>
    let loop: any EventLoop
    init(_ text: String, _ events: NIOLockedValueBox<[String]>, _ loop: any EventLoop) {
        (self.text, self.events, self.loop) = (text, events, loop)
    }

    func afterJobs() {
        XCTAssertTrue(loop.inEventLoop)
        events.withLockedValue { $0.append(text) }
    }
}
