import Logging
@testable import Rosy
import RosyWire
import XCTest

final class AwaitingRequestsTests: XCTestCase {
    func testHandlersShareATaskUntilOneSuspendsAndEveryRequestStartsAtOnce() async throws {
        let dispatcher = InboundDispatcher(codec: PickleCodec(), logger: Logger(label: "test"))
        // Requests 1 and 3 suspend until the gate opens (its first value), 2 throws, the
        // others return at once.
        let gate = Collector<Int>()
        let started = Collector<Int>()
        let requests = (0..<5).map { n in
            AwaitingRequests.Request(
                frame: ServiceRequestFrame(id: UInt16(n), service: "s", arguments: RawArguments()),
                handler: { _ in
                    started.append(n)
                    if n == 1 || n == 3 { try await gate.wait(for: 1) }
                    if n == 2 { throw TestError("two") }
                    return .int(Int64(n))
                })
        }
        let answers = Collector<(id: UInt16, value: Value?)>()
        let tasks = AwaitingRequests(requests).start(by: dispatcher, executor: nil) { frame, result in
            answers.append((frame.id, try? result.get()))
        }

        // One task ran 0 and suspended in 1, the next ran 2 and suspended in 3, the last ran 4.
        XCTAssertEqual(tasks, 3)
        XCTAssertEqual(started.values, [0, 1, 2, 3, 4], "every request starts before start returns")
        XCTAssertEqual(answers.values.map(\.id), [0, 2, 4], "the handlers that did not suspend answered at once")
        XCTAssertEqual(answers.values.map(\.value), [.int(0), nil, .int(4)], "2 threw")

        gate.append(1)
        try await answers.wait(for: 5)
        XCTAssertEqual(Set(answers.values.dropFirst(3).map(\.id)), [1, 3])
        XCTAssertEqual(Set(answers.values.dropFirst(3).compactMap(\.value)), [.int(1), .int(3)])
        XCTAssertEqual(started.count, 5, "a task that resumes finds nothing left to take")
    }

    func testHandlersThatNeverSuspendShareOneTask() {
        let dispatcher = InboundDispatcher(codec: PickleCodec(), logger: Logger(label: "test"))
        let requests = (0..<64).map { n in
            AwaitingRequests.Request(
                frame: ServiceRequestFrame(id: UInt16(n), service: "s", arguments: RawArguments()),
                handler: { _ in .int(Int64(n)) })
        }
        let answers = Collector<UInt16>()
        let tasks = AwaitingRequests(requests).start(by: dispatcher, executor: nil) { frame, _ in answers.append(frame.id) }
        XCTAssertEqual(tasks, 1)
        XCTAssertEqual(answers.values, (0..<64).map { UInt16($0) })
    }
}
