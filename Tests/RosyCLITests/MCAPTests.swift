import Foundation
import OrderedCollections
import RosyTestSupport
import RosyWire
import XCTest

@testable import RosyCLI

/// MCAP files, checked against the `mcap` Python package: it reads ours, we read its.
final class MCAPTests: XCTestCase {
    private func sampleMessages(count: Int = 50) -> [RecordedMessage] {
        let start: Int64 = 1_700_000_000_123_456_000
        var messages: [RecordedMessage] = []
        for i in 0..<count {
            let n = Int64(i)
            let list: [Value] = [.double(Double(i) / 4), .none, .bool(i % 2 == 0)]
            let args: [Value] = [.int(n), .string("msg \(i) é"), .list(list)]
            var kwargs: OrderedDictionary<String, Value> = [:]
            if i % 5 == 0 { kwargs["k"] = .dict([.string("n"): .int(-n)]) }
            messages.append(RecordedMessage(time: start + n * 10_000_000, topic: i % 3 == 0 ? "pose" : "status",
                                            args: args, kwargs: kwargs))
        }
        return messages
    }

    /// A complete MCAP recording of `messages`.
    private func write(_ messages: [RecordedMessage], to path: String, topics: [String],
                       chunkSizeLimit: Int = 1 << 20, compression: MCAPCompression = .none) throws {
        let writer = try MCAPRecordingWriter(path: path, topics: topics, chunkSizeLimit: chunkSizeLimit,
                                             compression: compression)
        for message in messages { try writer.append(message) }
        try writer.finish()
    }

    func testPythonReadsOurFile() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ours.mcap").path
        let messages = sampleMessages()
        try write(messages, to: path, topics: ["pose", "status"], chunkSizeLimit: 1024)

        let script = """
        import json, sys
        from mcap.reader import make_reader, NonSeekingReader
        with open(sys.argv[1], "rb") as f:
            reader = make_reader(f, validate_crcs=True)
            summary = reader.get_summary()
            s = summary.statistics
            print("stats", s.message_count, s.channel_count, s.schema_count, s.chunk_count > 1, len(summary.chunk_indexes) == s.chunk_count)
            for schema, channel, message in reader.iter_messages():
                print(channel.topic, channel.message_encoding, schema.encoding, message.log_time, json.dumps(json.loads(message.data), sort_keys=True))
        with open(sys.argv[1], "rb") as f:
            print("stream", sum(1 for _ in NonSeekingReader(f, validate_crcs=True).iter_messages()))
        """
        let result = try TestSupport.runPython(script, [path])
        XCTAssertEqual(result.status, 0, result.stderr)
        var lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "stats \(messages.count) 2 1 True True")
        XCTAssertEqual(lines.last, "stream \(messages.count)")
        lines = Array(lines.dropFirst().dropLast())
        XCTAssertEqual(lines.count, messages.count)
        // Python's sort_keys output, built here from our own values through Python's json again.
        let expected = try TestSupport.runPython("""
            import json, sys
            for line in sys.stdin: print(json.dumps(json.loads(line), sort_keys=True))
            """, input: Data(messages.map { String(decoding: MCAPRecordingFormat.messageData($0), as: UTF8.self) }.joined(separator: "\n").utf8))
        let expectedData = expected.stdout.split(separator: "\n").map(String.init)
        for (i, (line, message)) in zip(lines, messages).enumerated() {
            XCTAssertEqual(line, "\(message.topic) json jsonschema \(message.time) \(expectedData[i])")
        }
        // We read our own file back to the same messages.
        let recording = try Recording(path: path)
        XCTAssertTrue(recording.isComplete)
        XCTAssertEqual(recording.format, .mcap)
        XCTAssertEqual(recording.messages, messages)
    }

    func testWeReadPythonsFile() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("python.mcap").path
        let script = """
        import json, sys
        from mcap.writer import Writer, CompressionType
        with open(sys.argv[1], "wb") as f:
            w = Writer(f, compression=CompressionType.NONE, chunk_size=200)
            w.start()
            schema = w.register_schema("m", "jsonschema", b"{}")
            a = w.register_channel("alpha", "json", schema)
            b = w.register_channel("beta", "json", schema)
            for i in range(20):
                data = {"args": [i, "x" * i, [1.5, None]], "kwargs": {"i": i}}
                w.add_message(a if i % 2 else b, log_time=1000 + i, publish_time=1000 + i, data=json.dumps(data).encode())
            w.finish()
        """
        let result = try TestSupport.runPython(script, [path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let recording = try Recording(path: path)
        XCTAssertTrue(recording.isComplete)
        XCTAssertEqual(recording.messages.count, 20)
        for (i, message) in recording.messages.enumerated() {
            XCTAssertEqual(message.topic, i % 2 == 1 ? "alpha" : "beta")
            XCTAssertEqual(message.time, Int64(1000 + i))
            XCTAssertEqual(message.args, [.int(Int64(i)), .string(String(repeating: "x", count: i)), .list([.double(1.5), .none])])
            XCTAssertEqual(message.kwargs, ["i": .int(Int64(i))])
        }
    }

    func testCutOffFileReadsUpToItsLastChunk() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("cut.mcap").path
        let messages = sampleMessages(count: 30)
        let writer = try MCAPRecordingWriter(path: path, topics: ["pose", "status"], chunkSizeLimit: 1 << 20)
        for message in messages.prefix(20) { try writer.append(message) }
        try writer.flush()
        for message in messages.dropFirst(20) { try writer.append(message) }  // never flushed: lost
        // Like a SIGKILL in the middle of writing a chunk: a partial record at the end.
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: [0x06, 0xFF, 0x01, 0, 0, 0, 0, 0, 0, 1, 2, 3])
        try handle.close()

        let recording = try Recording(path: path)
        XCTAssertFalse(recording.isComplete)
        XCTAssertEqual(recording.messages, Array(messages.prefix(20)))

        // Python's record stream reader gets the same 20 messages before the cut (its
        // message readers give up on a file without a summary).
        let script = """
        import sys
        from mcap.stream_reader import StreamReader
        from mcap.records import Message
        n = 0
        try:
            with open(sys.argv[1], "rb") as f:
                for record in StreamReader(f).records:
                    n += isinstance(record, Message)
        except Exception:
            pass
        print(n)
        """
        let result = try TestSupport.runPython(script, [path])
        XCTAssertEqual(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "20", result.stderr)
    }

    func testCorruptChunkIsAnError() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("bad.mcap").path
        try write(sampleMessages(count: 5), to: path, topics: ["pose"])
        var bytes = try XCTUnwrap(FileManager.default.contents(atPath: path))
        // Flip a byte inside the first message's JSON, in the chunk.
        // A message's data starts with {"args":[ (the schema has no such text).
        let index = try XCTUnwrap(bytes.range(of: Data("{\"args\":[".utf8))).lowerBound + 3
        bytes[index] ^= 0x20
        XCTAssertThrowsError(try Recording(bytes: [UInt8](bytes), path: path)) { error in
            XCTAssertTrue("\(error)".contains("CRC"), "\(error)")
        }
    }

    // MARK: compressed chunks (zstd and lz4, as the mcap tools and ROS 2 write them)

    func testWeReadPythonsCompressedFiles() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for compression in ["ZSTD", "LZ4"] {
            let path = dir.appendingPathComponent("python-\(compression).mcap").path
            let script = """
            import json, sys
            from mcap.writer import Writer, CompressionType
            with open(sys.argv[1], "wb") as f:
                w = Writer(f, compression=CompressionType.\(compression), chunk_size=2000)
                w.start()
                schema = w.register_schema("m", "jsonschema", b"{}")
                a = w.register_channel("alpha", "json", schema)
                for i in range(300):
                    data = {"args": [i, "y" * (i % 40)], "kwargs": {}}
                    w.add_message(a, log_time=5000 + i, publish_time=5000 + i, data=json.dumps(data).encode())
                w.finish()
            from mcap.reader import make_reader
            with open(sys.argv[1], "rb") as f:
                s = make_reader(f).get_summary()
                print(s.statistics.chunk_count, sorted({c.compression for c in s.chunk_indexes}))
            """
            let result = try TestSupport.runPython(script, [path])
            XCTAssertEqual(result.status, 0, result.stderr)
            let chunks = try XCTUnwrap(Int(result.stdout.split(separator: " ").first ?? ""))
            XCTAssertGreaterThan(chunks, 1, result.stdout)
            XCTAssertTrue(result.stdout.contains("['\(compression.lowercased())']"), result.stdout)
            let recording = try Recording(path: path)
            XCTAssertTrue(recording.isComplete)
            XCTAssertEqual(recording.messages.count, 300, compression)
            for (i, message) in recording.messages.enumerated() {
                XCTAssertEqual(message.time, Int64(5000 + i))
                XCTAssertEqual(message.args, [.int(Int64(i)), .string(String(repeating: "y", count: i % 40))])
            }
        }
    }

    func testPythonReadsOurCompressedFiles() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let messages = sampleMessages(count: 200)
        for compression in [MCAPCompression.zstd, .lz4] {
            let path = dir.appendingPathComponent("ours-\(compression.rawValue).mcap").path
            try write(messages, to: path, topics: ["pose", "status"], chunkSizeLimit: 4096, compression: compression)

            let script = """
            import json, sys
            from mcap.reader import make_reader, NonSeekingReader
            with open(sys.argv[1], "rb") as f:
                reader = make_reader(f, validate_crcs=True)
                s = reader.get_summary()
                sizes = all(c.compressed_size < c.uncompressed_size for c in s.chunk_indexes)
                print(s.statistics.chunk_count > 1, sorted({c.compression for c in s.chunk_indexes}), sizes)
                for schema, channel, message in reader.iter_messages():
                    print(channel.topic, message.log_time, len(json.loads(message.data)["args"]))
            with open(sys.argv[1], "rb") as f:
                print("stream", sum(1 for _ in NonSeekingReader(f, validate_crcs=True).iter_messages()))
            """
            let result = try TestSupport.runPython(script, [path])
            XCTAssertEqual(result.status, 0, result.stderr)
            let lines = result.stdout.split(separator: "\n").map(String.init)
            XCTAssertEqual(lines.first, "True ['\(compression.rawValue)'] True")
            XCTAssertEqual(lines.last, "stream \(messages.count)")
            XCTAssertEqual(Array(lines.dropFirst().dropLast()), messages.map { "\($0.topic) \($0.time) 3" })
            // And back: the same messages.
            let recording = try Recording(path: path)
            XCTAssertEqual(recording.messages, messages)
        }
    }

    func testCorruptCompressedChunkIsAnError() throws {
        let dir = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for compression in [MCAPCompression.zstd, .lz4] {
            let path = dir.appendingPathComponent("bad-\(compression.rawValue).mcap").path
            try write(sampleMessages(count: 40), to: path, topics: ["pose"], compression: compression)
            var bytes = [UInt8](try XCTUnwrap(FileManager.default.contents(atPath: path)))
            // The chunk's compressed records follow its compression name and their length.
            let name = Array(compression.rawValue.utf8)
            let at = try XCTUnwrap((0..<bytes.count - name.count).first { Array(bytes[$0..<$0 + name.count]) == name })
            for offset in 40..<48 { bytes[at + name.count + 8 + offset] ^= 0x5A }
            XCTAssertThrowsError(try Recording(bytes: bytes, path: path)) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("corrupt MCAP chunk"), text)
            }
        }
    }

    func testChunkThatDoesNotMatchItsDeclaredSizeIsAnError() throws {
        let records = (0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7 / 3) }
        for compression in MCAPCompression.allCases {
            let stored = try compression.compress(records)
            XCTAssertEqual(try compression.decompress(stored[...], size: records.count), records)
            for size in [records.count - 1, records.count + 1, 0] {
                XCTAssertThrowsError(try compression.decompress(stored[...], size: size), "\(compression) \(size)") { error in
                    XCTAssertTrue("\(error)".hasPrefix("corrupt MCAP chunk"), "\(error)")
                }
            }
            // Cut short.
            XCTAssertThrowsError(try compression.decompress(stored.dropLast(9), size: records.count))
        }
    }

    func testUnknownCompressionIsAClearError() {
        XCTAssertThrowsError(try MCAPCompression(field: "bz2")) { error in
            XCTAssertEqual("\(error)", "MCAP chunk compression 'bz2' is not supported (none, zstd and lz4 are)")
        }
    }
}
