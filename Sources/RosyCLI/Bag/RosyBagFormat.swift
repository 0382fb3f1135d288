import Foundation
import NIOCore
import OrderedCollections
import RosyWire

/// rosy 0.8.3's `.bag` format: a plain sequence of pickles, one per message, each the tuple
/// `(datetime.datetime, topic, args tuple, kwargs dict)`. The datetime is local wall-clock
/// time, pickled as `REDUCE` of `datetime.datetime` on 10 packed bytes.
enum RosyBagFormat {
    static let datetime = PickleGlobal("datetime", "datetime")
    private static let reader = PickleReader(allowedGlobals: [datetime])

    /// A bag starts with a pickle's PROTO opcode (Python writes protocol 4 or 5).
    static func looksLikeBag(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x80 && (2...5).contains(bytes[1])
    }

    /// The pickle of one message, as Python's `pickle.dump((datetime, topic, args, kwargs))`.
    static func pickle(_ message: RecordedMessage) -> [UInt8] {
        let time = LocalDateTime(nanosecondsSinceEpoch: message.time)
        let packed: [UInt8] = [
            UInt8(time.year >> 8), UInt8(time.year & 0xFF), UInt8(time.month), UInt8(time.day),
            UInt8(time.hour), UInt8(time.minute), UInt8(time.second),
            UInt8(time.microsecond >> 16), UInt8(time.microsecond >> 8 & 0xFF), UInt8(time.microsecond & 0xFF),
        ]
        var kwargs = OrderedDictionary<Value, Value>()
        for (key, value) in message.kwargs { kwargs[.string(key)] = value }
        let record = PickleObject.tuple([
            .reduce(callable: .global(datetime), args: [.value(.bytes(packed))]),
            .value(.string(message.topic)),
            .value(.tuple(message.args)),
            .value(.dict(kwargs)),
        ])
        return PickleWriter().bytes(of: record)
    }

    /// Reads every message; a file that ends inside a pickle (cut off) gives the messages
    /// before it, with `isComplete` false. Any other damage is an error.
    static func messages(from bytes: [UInt8]) throws -> ([RecordedMessage], Bool) {
        var buffer = ByteBuffer(bytes: bytes)
        var messages: [RecordedMessage] = []
        while buffer.readableBytes > 0 {
            let start = buffer.readerIndex
            let record: PickleObject
            do {
                record = try reader.read(&buffer)
            } catch let error as CodecError where error.message.hasPrefix("truncated pickle") {
                return (messages, false)
            } catch {
                throw CLIError("corrupt .bag file: message \(messages.count + 1) at byte \(start): \(error)")
            }
            do {
                messages.append(try message(from: record))
            } catch {
                throw CLIError("corrupt .bag file: message \(messages.count + 1) at byte \(start): \(error)")
            }
        }
        return (messages, true)
    }

    private static func message(from record: PickleObject) throws -> RecordedMessage {
        guard let items = record.elements, items.count == 4 else {
            throw CLIError("not a (datetime, topic, args, kwargs) tuple")
        }
        guard case .reduce(let callable, let dateArgs) = items[0], callable.globalName == datetime,
              case .value(.bytes(let packed))? = dateArgs.first, packed.count == 10
        else { throw CLIError("the first item is not a datetime") }
        let time = LocalDateTime(
            year: Int(packed[0]) << 8 | Int(packed[1]), month: Int(packed[2]), day: Int(packed[3]),
            hour: Int(packed[4] & 0x7F), minute: Int(packed[5]), second: Int(packed[6]),
            microsecond: Int(packed[7]) << 16 | Int(packed[8]) << 8 | Int(packed[9]))
        guard time.isValid else { throw CLIError("the datetime is out of range") }
        guard case .value(.string(let topic)) = items[1] else { throw CLIError("the topic is not a str") }
        guard let args = items[2].plainValue?.arrayValue else { throw CLIError("args is not a tuple of plain data") }
        guard let kwargsDict = items[3].plainValue?.dictValue else { throw CLIError("kwargs is not a dict of plain data") }
        var kwargs = OrderedDictionary<String, Value>()
        for (key, value) in kwargsDict {
            guard let key = key.stringValue else { throw CLIError("a kwargs key is not a str") }
            kwargs[key] = value
        }
        return RecordedMessage(time: time.nanosecondsSinceEpoch, topic: topic, args: args, kwargs: kwargs)
    }
}

/// Appends messages to a rosy `.bag` file, one pickle per message, each in one write.
final class RosyBagWriter: RecordingWriter {
    private let file: FileHandle

    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let file = FileHandle(forWritingAtPath: path)
        else { throw CLIError("cannot create \(path)") }
        self.file = file
    }

    func append(_ message: RecordedMessage) throws {
        try file.write(contentsOf: RosyBagFormat.pickle(message))
    }

    func flush() throws {}

    func finish() throws { try file.close() }
}
