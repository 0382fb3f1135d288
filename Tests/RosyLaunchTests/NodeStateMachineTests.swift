import RosyLaunch
import XCTest

/// The state table, with no process anywhere.
final class NodeStateMachineTests: XCTestCase {
    typealias Machine = NodeStateMachine

    func machine(_ restart: RestartPolicy, maxRestarts: Int = 3,
                 backoff: Backoff = Backoff(initial: 0.1, factor: 2, maximum: 1, resetAfter: 10)) -> Machine {
        Machine(policy: .init(restart: restart, backoff: backoff, maxRestarts: maxRestarts))
    }

    func testStartAndRun() {
        var m = machine(.onFailure)
        XCTAssertEqual(m.state, .waiting)
        XCTAssertEqual(m.handle(.start), [.spawn])
        XCTAssertEqual(m.state, .starting)
        XCTAssertEqual(m.handle(.spawned), [])
        XCTAssertEqual(m.state, .running)
        XCTAssertTrue(m.wantedUp)
    }

    func testCrashLoopBacksOffExponentiallyThenFails() {
        var m = machine(.always, maxRestarts: 3)
        m.handle(.start); m.handle(.spawned)
        var delays: [Double] = []
        for _ in 0..<3 {
            let actions = m.handle(.exited(.code(1), ranFor: 0.5))
            guard case .scheduleRestart(let delay)? = actions.first else { return XCTFail("\(actions)") }
            delays.append(delay)
            XCTAssertEqual(m.state, .backoff)
            XCTAssertEqual(m.handle(.backoffElapsed), [.spawn])
            m.handle(.spawned)
        }
        XCTAssertEqual(delays, [0.1, 0.2, 0.4])
        let last = m.handle(.exited(.signal(11), ranFor: 0.5))
        XCTAssertEqual(m.state, .failed)
        guard case .reportFailed(let reason)? = last.first else { return XCTFail("\(last)") }
        XCTAssertTrue(reason.contains("killed by signal 11") || reason.contains("SIG"), reason)
        XCTAssertEqual(m.restarts, 3)
    }

    func testStableRunResetsTheBackoff() {
        var m = machine(.always, maxRestarts: 2)
        m.handle(.start); m.handle(.spawned)
        XCTAssertEqual(m.handle(.exited(.code(1), ranFor: 1)), [.scheduleRestart(after: 0.1)])
        m.handle(.backoffElapsed); m.handle(.spawned)
        XCTAssertEqual(m.handle(.exited(.code(1), ranFor: 1)), [.scheduleRestart(after: 0.2)])
        m.handle(.backoffElapsed); m.handle(.spawned)
        // Ran longer than reset_after: counted as a first crash again, never reaches the limit.
        XCTAssertEqual(m.handle(.exited(.code(1), ranFor: 60)), [.scheduleRestart(after: 0.1)])
        XCTAssertEqual(m.quickExits, 1)
    }

    func testBackoffIsCapped() {
        let backoff = Backoff(initial: 1, factor: 10, maximum: 30, resetAfter: 10)
        XCTAssertEqual((1...5).map(backoff.delay(attempt:)), [1, 10, 30, 30, 30])
    }

    func testOnFailureAndNever() {
        var clean = machine(.onFailure)
        clean.handle(.start); clean.handle(.spawned)
        XCTAssertEqual(clean.handle(.exited(.code(0), ranFor: 1)), [])
        XCTAssertEqual(clean.state, .exited)

        var never = machine(.never)
        never.handle(.start); never.handle(.spawned)
        XCTAssertEqual(never.handle(.exited(.code(2), ranFor: 1)), [.reportFailed(reason: "exit status 2")])
        XCTAssertEqual(never.state, .failed)

        var neverClean = machine(.never)
        neverClean.handle(.start); neverClean.handle(.spawned)
        XCTAssertEqual(neverClean.handle(.exited(.code(0), ranFor: 1)), [])
        XCTAssertEqual(neverClean.state, .exited)
    }

    func testAlwaysRestartsAfterACleanExit() {
        var m = machine(.always)
        m.handle(.start); m.handle(.spawned)
        XCTAssertEqual(m.handle(.exited(.code(0), ranFor: 1)), [.scheduleRestart(after: 0.1)])
    }

    func testStopOverridesThePolicy() {
        var m = machine(.always)
        m.handle(.start); m.handle(.spawned)
        XCTAssertEqual(m.handle(.stop), [.sendStopSignal])
        XCTAssertEqual(m.state, .stopping)
        XCTAssertFalse(m.wantedUp)
        XCTAssertEqual(m.handle(.stop), [], "a second stop changes nothing")
        XCTAssertEqual(m.handle(.stopTimedOut), [.killProcessGroup])
        XCTAssertEqual(m.handle(.exited(.signal(9), ranFor: 3)), [])
        XCTAssertEqual(m.state, .exited)
        XCTAssertEqual(m.lastExit, .signal(9))
    }

    func testStopDuringBackoffCancelsTheRestart() {
        var m = machine(.always)
        m.handle(.start); m.handle(.spawned)
        m.handle(.exited(.code(1), ranFor: 0))
        XCTAssertEqual(m.handle(.stop), [.cancelRestart])
        XCTAssertEqual(m.state, .exited)
        XCTAssertEqual(m.handle(.backoffElapsed), [], "a late timer does nothing")
    }

    func testStartCutsBackoffShortAndRevivesFailed() {
        var m = machine(.always, maxRestarts: 0)
        m.handle(.start); m.handle(.spawned)
        XCTAssertEqual(m.state, .running)
        m.handle(.exited(.code(1), ranFor: 0))
        XCTAssertEqual(m.state, .failed)
        XCTAssertEqual(m.handle(.start), [.spawn])
        XCTAssertEqual(m.quickExits, 0)
        XCTAssertNil(m.failure)

        var b = machine(.always)
        b.handle(.start); b.handle(.spawned)
        b.handle(.exited(.code(1), ranFor: 0))
        XCTAssertEqual(b.handle(.start), [.cancelRestart, .spawn])
    }

    func testSpawnFailureCountsAsACrash() {
        var m = machine(.onFailure, maxRestarts: 1)
        m.handle(.start)
        XCTAssertEqual(m.handle(.spawnFailed), [.scheduleRestart(after: 0.1)])
        m.handle(.backoffElapsed)
        XCTAssertEqual(m.handle(.spawnFailed).count, 1)
        XCTAssertEqual(m.state, .failed)
        XCTAssertEqual(m.lastExit, .spawnFailed)
    }

    func testWaitingNodeCanGiveUpOrBeStopped() {
        var m = machine(.always)
        XCTAssertEqual(m.handle(.gaveUpWaiting(reason: "no pose")), [.reportFailed(reason: "no pose")])
        XCTAssertEqual(m.state, .failed)
        var s = machine(.always)
        XCTAssertEqual(s.handle(.stop), [])
        XCTAssertEqual(s.state, .exited)
    }

    func testIgnoredEvents() {
        var m = machine(.always)
        XCTAssertEqual(m.handle(.spawned), [])
        XCTAssertEqual(m.handle(.exited(.code(0), ranFor: 0)), [])
        XCTAssertEqual(m.handle(.stopTimedOut), [])
        XCTAssertEqual(m.state, .waiting)
    }
}

final class LineAssemblerTests: XCTestCase {
    func lines(_ chunks: [String], max: Int = 64 * 1024) -> [String] {
        var assembler = LineAssembler(maximumLength: max)
        var out: [String] = []
        for chunk in chunks {
            var bytes = Array(chunk.utf8)
            bytes.withUnsafeMutableBytes { raw in
                assembler.feed(UnsafeRawBufferPointer(raw)) { out.append(String(decoding: $0, as: UTF8.self)) }
            }
        }
        assembler.finish { out.append(String(decoding: $0, as: UTF8.self)) }
        return out
    }

    func testWholeSplitAndPartialLines() {
        XCTAssertEqual(lines(["a\nb\n"]), ["a", "b"])
        XCTAssertEqual(lines(["he", "llo\nwor", "ld\n"]), ["hello", "world"])
        XCTAssertEqual(lines(["no end"]), ["no end"])
        XCTAssertEqual(lines(["\n\n"]), ["", ""])
        XCTAssertEqual(lines([]), [])
    }

    func testLongLinesArePassedInPieces() {
        XCTAssertEqual(lines(["abcdefghij\n"], max: 4), ["abcd", "efgh", "ij"])
        XCTAssertEqual(lines(["abc", "defgh", "ij\n"], max: 4), ["abcd", "efgh", "ij"])
        // Every byte once, one at a time.
        let text = (0..<50).map { "line \($0) " + String(repeating: "x", count: $0) }.joined(separator: "\n") + "\n"
        let expected = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        XCTAssertEqual(lines(text.map { String($0) }), expected)
    }
}
