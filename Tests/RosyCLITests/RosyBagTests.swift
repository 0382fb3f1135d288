import Foundation
import OrderedCollections
import RosyTestSupport
import RosyWire
import XCTest

@testable import RosyCLI

/// rosy 0.8.3's `.bag` files, checked against Python: pickle reads ours, we read rosy's.
final class RosyBagTests: XCTestCase {
    /// Python writes a bag as rosy's `bag record` does; prints what it wrote, one repr per line.
    static let pythonWriter = """
    import pickle, sys
    from datetime import datetime, timedelta
    t0 = datetime(2024, 5, 1, 12, 30, 0, 250000)
    rows = [
        (t0, "pose", (1, 2.5, "x"), {}),
        (t0 + timedelta(milliseconds=500), "status", ("ok", None, True, b"\\x00\\xff"), {"n": [1, (2, 3)], "d": {"k": {1, 2}}}),
        (t0 + timedelta(seconds=2, microseconds=1), "pose", (), {"big": 2**40}),
    ]
    with open(sys.argv[1], "wb") as f:
        for row in rows:
            pickle.dump(row, f)
    """

    func testWeReadRosysBag() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("python.bag").path
        let result = try TestSupport.runPython(Self.pythonWriter, [path])
        XCTAssertEqual(result.status, 0, result.stderr)

        let recording = try Recording(path: path)
        XCTAssertEqual(recording.format, .rosy)
        XCTAssertTrue(recording.isComplete)
        XCTAssertEqual(recording.messages.map(\.topic), ["pose", "status", "pose"])
        XCTAssertEqual(recording.messages[0].args, [1, 2.5, "x"])
        XCTAssertEqual(recording.messages[1].args, ["ok", nil, true, .bytes([0, 255])])
        XCTAssertEqual(recording.messages[1].kwargs["n"], .list([1, .tuple([2, 3])]))
        XCTAssertEqual(recording.messages[2].kwargs["big"], .int(1 << 40))
        XCTAssertEqual(LocalDateTime(nanosecondsSinceEpoch: recording.messages[0].time).pythonDescription, "2024-05-01 12:30:00.250000")
        XCTAssertEqual(recording.messages[1].time - recording.messages[0].time, 500_000_000)
        XCTAssertEqual(recording.messages[2].time - recording.messages[0].time, 2_000_001_000)
    }

    func testPythonReadsOurBag() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ours.bag").path
        let t0 = LocalDateTime(year: 2024, month: 5, day: 1, hour: 12, minute: 30, second: 0, microsecond: 250_000).nanosecondsSinceEpoch
        let messages = [
            RecordedMessage(time: t0, topic: "pose", args: [1, 2.5, "x"], kwargs: [:]),
            RecordedMessage(time: t0 + 500_000_000, topic: "status", args: ["ok", nil, .bytes([0, 255])],
                            kwargs: ["n": .list([1, .tuple([2, 3])])]),
        ]
        let writer = try RosyBagWriter(path: path)
        for message in messages { try writer.append(message) }
        try writer.finish()

        // rosy's own reader (rosy.cli.bag.file) reads it.
        let script = """
        import sys
        from pathlib import Path
        from rosy.cli.bag.file import get_bag_file_messages
        for row in get_bag_file_messages(Path(sys.argv[1])):
            print(repr(row))
        """
        let result = try TestSupport.runPython(script, [path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout.split(separator: "\n").map(String.init), [
            "(datetime.datetime(2024, 5, 1, 12, 30, 0, 250000), 'pose', (1, 2.5, 'x'), {})",
            "(datetime.datetime(2024, 5, 1, 12, 30, 0, 750000), 'status', ('ok', None, b'\\x00\\xff'), {'n': [1, (2, 3)]})",
        ])
    }

    func testInfoMatchesRosys() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("record_2024-05-01-12-30-00.bag").path
        XCTAssertEqual(try TestSupport.runPython(Self.pythonWriter, [path]).status, 0)
        let rosyExecutable = URL(fileURLWithPath: try TestSupport.python()).deletingLastPathComponent().appendingPathComponent("rosy").path
        // Without -i both pick the newest record_* file in the current directory.
        let python = try TestSupport.run(rosyExecutable, ["bag", "info"], currentDirectory: dir)
        XCTAssertEqual(python.status, 0, python.stderr)
        let ours = try TestSupport.run(TestSupport.executable("rosy").path, ["bag", "info"], currentDirectory: dir)
        XCTAssertEqual(ours.status, 0, ours.stderr)
        let oursWithoutFormat = ours.stdout.split(separator: "\n").filter { !$0.hasPrefix("format:") }
        XCTAssertEqual(oursWithoutFormat, python.stdout.split(separator: "\n"))
    }

    func testCutOffBagReadsUpToItsLastMessage() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("cut.bag").path
        XCTAssertEqual(try TestSupport.runPython(Self.pythonWriter, [path]).status, 0)
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: path))
        let recording = try Recording(bytes: [UInt8](bytes.dropLast(7)), path: path)
        XCTAssertFalse(recording.isComplete)
        XCTAssertEqual(recording.messages.count, 2)
    }

    func testDefaultNamesAndNewest() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let time = LocalDateTime(year: 2024, month: 5, day: 1, hour: 9, minute: 8, second: 7, microsecond: 0)
        XCTAssertEqual(RecordingFiles.defaultName(format: .mcap, at: time), "record_2024-05-01-09-08-07.mcap")
        XCTAssertEqual(RecordingFiles.defaultName(format: .rosy, at: time), "record_2024-05-01-09-08-07.bag")
        for name in ["record_2024-05-01-09-08-07.bag", "record_2024-05-02-00-00-00.mcap", "record_2024-05-01-23-59-59.bag", "record_2099-01-01-00-00-00.txt", "notes.mcap"] {
            _ = FileManager.default.createFile(atPath: dir.appendingPathComponent(name).path, contents: Data())
        }
        XCTAssertEqual(try RecordingFiles.newest(in: dir.path), "record_2024-05-02-00-00-00.mcap")
        XCTAssertThrowsError(try RecordingFiles.newest(in: dir.appendingPathComponent("nothing").path))
    }
}
