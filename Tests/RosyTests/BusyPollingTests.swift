import Foundation
import NIOCore
import NIOPosix
@testable import Rosy
import XCTest

/// `BusyPolling`'s loops, observed through what the kernel counts for their threads: how
/// often a loop thread went to sleep (voluntary context switches) and how much CPU it used.
final class BusyPollingTests: XCTestCase {
    /// A stream of calls made one at a time: each loop spins from one call to the next
    /// instead of sleeping in between, as NIO's own loops do.
    func testLoopsThatBusyPollDoNotSleepBetweenCallsMadeOneAtATime() async throws {
        let calls = 500
        let spinning = try await sleepsDuringCalls(calls, makeGroup: {
            // A window far longer than a call takes, even on a loaded machine.
            BusyPolling.eventLoopGroup(window: .milliseconds(20))
        })
        XCTAssertLessThan(spinning.caller, calls / 10, "the caller's loop slept between calls")
        XCTAssertLessThan(spinning.provider, calls / 10, "the provider's loop slept between calls")

        // The same count on NIO's own loops, which sleep while each call is away: this shows
        // that the count sees the sleeps at all. (Not every call puts both threads to sleep:
        // a thread woken on the core of the one that woke it may run first and answer before
        // the other has gone to sleep.)
        let sleeping = try await sleepsDuringCalls(calls, makeGroup: { MultiThreadedEventLoopGroup(numberOfThreads: 1) })
        XCTAssertGreaterThan(sleeping.caller + sleeping.provider, calls / 2)
    }

    /// A loop woken now and then (here by its own timers, every 100 ms: longer than four
    /// windows) sleeps at once after each turn: it spins only while traffic is dense.
    func testALoopWokenNowAndThenDoesNotSpin() async throws {
        let window = TimeAmount.milliseconds(20)
        let group = BusyPolling.eventLoopGroup(window: window)
        let loop = group.next()
        let wakeUps = 10
        // The timers are set on the loop itself, so that nothing else wakes it in between.
        let (before, last) = try await loop.submit {
            let start = NIODeadline.now()
            let timers = (1...wakeUps).map { n in loop.scheduleTask(deadline: start + .milliseconds(100 * Int64(n))) {} }
            return (threadCPUNanoseconds(), timers.last!.futureResult)
        }.get()
        try await last.get()
        let used = try await loop.submit { threadCPUNanoseconds() }.get() - before
        try await group.shutdownGracefully()
        // Spinning a window after each wake-up would use 10 × 20 ms.
        XCTAssertLessThan(used, Int64(wakeUps) * window.nanoseconds / 2, "the loop spun after sparse wake-ups")
    }

    /// NIO does not expose a loop's epoll descriptor; it is found through a descriptor the
    /// loop watches.
    func testFindsTheEpollDescriptorOfALoopThroughADescriptorItWatches() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var ends: [CInt] = [0, 0]
        XCTAssertEqual(pipe(&ends), 0)
        let channel = try await NIOPipeBootstrap(group: group).takingOwnershipOfDescriptor(input: ends[0]).get()
        let found = try XCTUnwrap(epollDescriptor(watching: ends[0]))
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(found)"),
                       "anon_inode:[eventpoll]")
        XCTAssertNil(epollDescriptor(watching: ends[1]), "no loop watches the write end")
        try await channel.close()
        close(ends[1])
        try await group.shutdownGracefully()
    }

    /// Each loop holds a pipe of its own (how its epoll descriptor is found); a group that shut
    /// down leaves neither the pipe nor the loop's epoll descriptor open.
    func testAGroupThatShutDownLeavesNoDescriptorOpen() async throws {
        let before = try openPipesAndEpollDescriptors()
        for _ in 0..<3 {
            let group = BusyPolling.eventLoopGroup(numberOfThreads: 2)
            // Once a loop's selector is known, it spins after a turn of dense traffic.
            for loop in group.makeIterator() {
                for _ in 0..<3 { try await loop.submit {}.get() }
            }
            try await group.shutdownGracefully()
        }
        XCTAssertEqual(try openPipesAndEpollDescriptors(), before)
    }

    func testTheEnvironmentAsksForAWindowInMicroseconds() {
        defer { unsetenv("ROSY_BUSY_POLL_US") }
        unsetenv("ROSY_BUSY_POLL_US")
        XCTAssertNil(BusyPolling.windowFromEnvironment())
        for unusable in ["", "0", "-5", "fifty"] {
            setenv("ROSY_BUSY_POLL_US", unusable, 1)
            XCTAssertNil(BusyPolling.windowFromEnvironment(), unusable)
        }
        setenv("ROSY_BUSY_POLL_US", "50", 1)
        XCTAssertEqual(BusyPolling.windowFromEnvironment(), .microseconds(50))
    }

    // MARK: helpers

    /// How many times each node's loop thread slept while `calls` calls were made one at a
    /// time, the caller on its node's executor; each node has a group of its own.
    private func sleepsDuringCalls(
        _ calls: Int, makeGroup: () -> MultiThreadedEventLoopGroup
    ) async throws -> (caller: Int, provider: Int) {
        let mesh = InProcessMesh()
        let (providerGroup, callerGroup) = (makeGroup(), makeGroup())
        func shutDown() async {
            try? await providerGroup.shutdownGracefully()
            try? await callerGroup.shutdownGracefully()
        }
        var providerOptions = NodeOptions.inProcess(mesh), callerOptions = NodeOptions.inProcess(mesh)
        providerOptions.eventLoopGroup = providerGroup
        callerOptions.eventLoopGroup = callerGroup
        let provider = try await Node.start(name: "provider", options: providerOptions)
        let caller = try await Node.start(name: "caller", options: callerOptions)
        do {
            try await provider.addService("echo") { request in request.args.first ?? .none }
            let ready = await caller.waitForProvider("echo", timeout: .seconds(30))
            XCTAssertTrue(ready)
            let sleeps = try await withTaskExecutorPreference(caller.taskExecutor) {
                for n in 0..<50 { _ = try await caller.call("echo", .int(Int64(n))) }  // warm up
                let providerBefore = try await provider.eventLoop.submit { voluntaryContextSwitches() }.get()
                let callerBefore = voluntaryContextSwitches()  // this task runs on the caller's loop
                for n in 0..<calls {
                    let reply = try await caller.call("echo", .int(Int64(n)))
                    XCTAssertEqual(reply, .int(Int64(n)))
                }
                let callerSleeps = voluntaryContextSwitches() - callerBefore
                let providerAfter = try await provider.eventLoop.submit { voluntaryContextSwitches() }.get()
                return (caller: callerSleeps, provider: providerAfter - providerBefore)
            }
            await caller.stop()
            await provider.stop()
            await shutDown()
            return sleeps
        } catch {
            await caller.stop()
            await provider.stop()
            await shutDown()
            throw error
        }
    }
}

/// The pipes and epoll descriptors this process has open (a group's loops open both; other
/// parts of a test process open eventfds and sockets in the background).
private func openPipesAndEpollDescriptors() throws -> Int {
    let files = FileManager.default
    return try files.contentsOfDirectory(atPath: "/proc/self/fd").filter { fd in
        let target = (try? files.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")) ?? ""
        return target.hasPrefix("pipe:") || target == "anon_inode:[eventpoll]"
    }.count
}

/// The CPU time the calling thread has used.
private func threadCPUNanoseconds() -> Int64 {
    var used = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &used)
    return Int64(used.tv_sec) * 1_000_000_000 + Int64(used.tv_nsec)
}
