#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Event loops that poll for work a little before they sleep: service calls made one at a
/// time answer about five times faster, for CPU spent spinning while they flow.
///
/// An event loop with nothing to do sleeps in `epoll_wait`, and the next request or
/// response has to wake it. On a virtual machine that wake-up costs tens of microseconds at
/// each end, more than the rest of a call. A loop of this group that has just been busy
/// polls for up to `window` after each turn instead, so that a reply coming back within the
/// window is read without the thread ever sleeping.
///
/// It spins only while traffic is dense: after a turn that followed a wait shorter than four
/// windows. A loop woken by a timer every millisecond, or by a sensor at 1 kHz, sleeps at
/// once as NIO's own loops do, and an idle node uses no CPU. In a stream of calls, each end
/// uses up to a core.
///
/// Give each node its own group of one loop, and make the calls from the node's executor
/// (``Node/taskExecutor``), so that a response resumes its call on the thread that spun:
///
/// ```swift
/// var options = NodeOptions()
/// options.eventLoopGroup = BusyPolling.eventLoopGroup(window: .microseconds(50))
/// let node = try await Node.start(name: "arm controller", options: options)
/// try await withTaskExecutorPreference(node.taskExecutor) {
///     for target in targets { _ = try await node.call("ik", target) }
/// }
/// ```
///
/// A node started with `ROSY_BUSY_POLL_US` set in its environment (a launch file's `env`)
/// gets such a group by default (``NodeOptions/eventLoopGroup``).
///
/// Spinning pays only with a core to spare for each spinning loop: with more spinning loops
/// than cores they take turns, and each slows the others. While a loop spins, a timer of
/// its own that falls due may fire up to one window late (NIO arms its timer as it goes to
/// sleep). Linux only (the loop's epoll descriptor is found through `/proc`); where it
/// cannot be found, the loops sleep at once, as NIO's own.
public enum BusyPolling {
    /// A group of `numberOfThreads` event loops that each poll for work for up to `window`
    /// before they sleep, while traffic is dense.
    public static func eventLoopGroup(numberOfThreads: Int = 1, window: TimeAmount = .microseconds(50))
        -> MultiThreadedEventLoopGroup
    {
        let spinner = Spinner(window: window)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: numberOfThreads, metricsDelegate: spinner)
        for loop in group.makeIterator() {
            spinner.learnSelector(of: loop)
        }
        return group
    }

    /// The window that `ROSY_BUSY_POLL_US` asks for, if it holds a positive number of
    /// microseconds.
    static func windowFromEnvironment() -> TimeAmount? {
        guard let text = getenv("ROSY_BUSY_POLL_US").map({ String(cString: $0) }),
              let microseconds = Int64(text), microseconds > 0
        else { return nil }
        return .microseconds(microseconds)
    }

    /// One loop polling for `ROSY_BUSY_POLL_US`, shared by the nodes of this process; `nil`
    /// when the variable is not set.
    static let groupFromEnvironment: MultiThreadedEventLoopGroup? = windowFromEnvironment().map {
        eventLoopGroup(window: $0)
    }
}

/// Polls a loop's selector after each of its turns, until the selector has work or the window
/// has passed. NIO calls it on the loop's thread, right before the loop waits in `epoll_wait`.
private final class Spinner: NIOEventLoopMetricsDelegate, Sendable {
    private let window: Int64
    /// The epoll descriptor of each loop, by the loop's identity; a loop not listed here
    /// (yet, or because it could not be found) sleeps at once.
    private let selectors = NIOLockedValueBox<[ObjectIdentifier: CInt]>([:])

    /// Traffic is dense when the loop waited less than this many windows before its turn.
    private static let denseTrafficWindows: Int64 = 4

    init(window: TimeAmount) {
        self.window = max(0, window.nanoseconds)
    }

    func processedTick(info: NIOEventLoopTickInfo) {
        guard info.sleepTime.nanoseconds < window * Self.denseTrafficWindows,
              let selector = selectors.withLockedValue({ $0[info.eventLoopID] })
        else { return }
        let end = monotonicNanoseconds() + window
        // An epoll descriptor is readable when a wait on it would return events: socket
        // I/O, a task from another thread (NIO's wake-up eventfd) or a due timer (timerfd).
        var selectorReady = pollfd(fd: selector, events: Int16(POLLIN), revents: 0)
        repeat {
            if poll(&selectorReady, 1, 0) != 0 { return }
        } while monotonicNanoseconds() < end
    }

    /// Finds the loop's epoll descriptor, which NIO does not expose: registers a pipe of its
    /// own on the loop, then looks for the epoll descriptor that `/proc/self/fdinfo` shows
    /// watching it.
    func learnSelector(of loop: any EventLoop) {
        var ends: [CInt] = [0, 0]
        guard pipe(&ends) == 0 else { return }
        let (readEnd, writeEnd) = (ends[0], ends[1])
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
        NIOPipeBootstrap(group: loop).takingOwnershipOfDescriptor(input: readEnd).whenComplete { result in
            switch result {
            case .success(let channel):
                // The write end stays open while the loop runs: the pipe never reads
                // anything, not even end-of-file, so the loop never wakes for it. The loop
                // closes the channel (and the read end) when it shuts down.
                if let selector = epollDescriptor(watching: readEnd) {
                    self.selectors.withLockedValue { $0[ObjectIdentifier(loop)] = selector }
                }
                channel.closeFuture.whenComplete { _ in
                    self.selectors.withLockedValue { $0[ObjectIdentifier(loop)] = nil }
                    close(writeEnd)
                }
            case .failure:
                close(readEnd)
                close(writeEnd)
            }
        }
    }
}

private func monotonicNanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}

/// The epoll descriptor of this process that watches `target`: `/proc/self/fd/N` links to
/// `anon_inode:[eventpoll]`, and `/proc/self/fdinfo/N` has a line `tfd: <target> events: ...`.
func epollDescriptor(watching target: CInt) -> CInt? {
    let files = FileManager.default
    for name in (try? files.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
        guard let fd = CInt(name),
              (try? files.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(name)")) == "anon_inode:[eventpoll]",
              let info = try? String(contentsOfFile: "/proc/self/fdinfo/\(name)", encoding: .utf8)
        else { continue }
        for line in info.split(separator: "\n") where line.hasPrefix("tfd:") {
            let fields = line.split(separator: " ")
            if fields.count > 1, CInt(fields[1]) == target { return fd }
        }
    }
    return nil
}
