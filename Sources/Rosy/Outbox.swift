import NIOCore
import RosyWire

/// The topic messages waiting for one peer's connection, in send order (no I/O here).
///
/// Small frames are encoded straight into one shared batch buffer, back to back, so a
/// message costs no allocation of its own and a whole batch goes to the socket as one
/// write. Large frames keep their own buffer (no copy), or stay gathered (their large
/// payloads put in only when written: straight into a shared-memory lane, one copy). Each message also has an entry
/// that says where it ends and when it expires, for the bound (drop the oldest), the
/// time-to-live and the order between small and large frames.
///
/// ```swift
/// var outbox = Outbox()
/// try outbox.append(deadline: deadline) { try FrameEncoder.writeTopicMessage(..., into: &$0) }
/// let writes = outbox.writes(now: .now())   // in order, and how many expired
/// ```
struct Outbox {
    /// Frames up to this size are copied into the batch buffer; larger ones go as they are.
    static let coalesceLimit = 4096
    /// The batch buffer's first capacity.
    static let batchCapacity = 64 * 1024

    /// One waiting message: where it ends in `batch`, or `-1` for the next of `large`,
    /// and when it expires (plain data: copying entries costs no reference counting).
    private struct Entry {
        var end: Int
        var deadline: NIODeadline
    }

    /// A frame as it is handed to the outbox.
    enum Frame {
        /// Encoded whole.
        case bytes(ByteBuffer)
        /// Encoded without its large payloads (``GatheredFrame``).
        case gathered(GatheredFrame)

        var size: Int {
            switch self {
            case .bytes(let bytes): bytes.readableBytes
            case .gathered(let frame): frame.size
            }
        }
    }

    private var batch = ByteBuffer()
    private var large = CircularBuffer<Frame>()
    private var entries = CircularBuffer<Entry>()

    init() {}

    /// How many messages wait.
    var count: Int { entries.count }
    /// How many bytes of frames wait.
    var bytes: Int { batch.readableBytes + largeBytes }
    private var largeBytes = 0
    var isEmpty: Bool { entries.isEmpty }

    /// Appends one message that `encode` writes into the batch buffer. When `encode` throws,
    /// the outbox is unchanged (it must leave the buffer as it found it, as
    /// ``FrameEncoder`` does).
    mutating func append(deadline: NIODeadline, encode: (inout ByteBuffer) throws -> Void) rethrows {
        if batch.capacity == 0 { batch.reserveCapacity(Self.batchCapacity) }
        try encode(&batch)
        entries.append(Entry(end: batch.writerIndex, deadline: deadline))
    }

    /// Appends one encoded message: copied into the batch when small, kept as it is when large.
    mutating func append(_ frame: ByteBuffer, deadline: NIODeadline) {
        append(.bytes(frame), deadline: deadline)
    }

    /// Appends one message: copied into the batch when small and whole, kept as it is otherwise.
    mutating func append(_ frame: Frame, deadline: NIODeadline) {
        if case .bytes(let bytes) = frame, bytes.readableBytes <= Self.coalesceLimit {
            append(deadline: deadline) { $0.writeImmutableBuffer(bytes) }
        } else {
            large.append(frame)
            largeBytes += frame.size
            entries.append(Entry(end: -1, deadline: deadline))
        }
    }

    /// Drops the oldest message.
    mutating func removeFirst() {
        guard let first = entries.popFirst() else { return }
        if first.end < 0 {
            largeBytes -= large.removeFirst().size
        } else {
            batch.moveReaderIndex(to: first.end)
        }
        if entries.isEmpty { batch.clear() }
    }

    /// Drops every message.
    mutating func removeAll() {
        self = Outbox()
    }

    /// The buffers to write, in order, and how many messages had expired (those are left out).
    struct Writes {
        /// One write: a run of small frames, or one large frame as it was appended.
        struct Buffer {
            var frame: Frame
            /// One frame larger than ``Outbox/coalesceLimit`` (the shared-memory lane takes
            /// only these: a run of small frames goes through the socket as it is).
            var isOneLargeFrame: Bool

            init(bytes: ByteBuffer, isOneLargeFrame: Bool) {
                self.init(frame: .bytes(bytes), isOneLargeFrame: isOneLargeFrame)
            }

            init(frame: Frame, isOneLargeFrame: Bool) {
                self.frame = frame
                self.isOneLargeFrame = isOneLargeFrame
            }

            /// The bytes to write (a gathered frame is put together here: one copy).
            func bytes(allocator: ByteBufferAllocator) -> ByteBuffer {
                switch frame {
                case .bytes(let bytes): bytes
                case .gathered(let frame): frame.materialized(allocator: allocator)
                }
            }

            var size: Int { frame.size }
        }
        var buffers: [Buffer] = []
        var expired = 0
    }

    /// What to write for these messages: messages past their deadline are left out, and
    /// consecutive small frames come as one buffer.
    func writes(now: NIODeadline) -> Writes {
        var result = Writes()
        guard let first = entries.first else { return result }
        // The usual case: small frames only, none expired: the whole batch is one write.
        if large.isEmpty, first.deadline >= now {
            result.buffers = [Writes.Buffer(bytes: batch, isOneLargeFrame: false)]
            return result
        }
        var batch = self.batch
        var large = self.large
        var index = entries.startIndex
        // Deadlines grow in send order, so the expired messages are the oldest ones.
        while index != entries.endIndex, entries[index].deadline < now {
            let entry = entries[index]
            if entry.end < 0 { large.removeFirst() } else { batch.moveReaderIndex(to: entry.end) }
            result.expired += 1
            index = entries.index(after: index)
        }
        while index != entries.endIndex {
            let entry = entries[index]
            index = entries.index(after: index)
            if entry.end < 0 {
                result.buffers.append(Writes.Buffer(frame: large.removeFirst(), isOneLargeFrame: true))
                continue
            }
            // The run of small frames up to the next large one (or the end).
            var runEnd = entry.end
            while index != entries.endIndex, entries[index].end >= 0 {
                runEnd = entries[index].end
                index = entries.index(after: index)
            }
            if let run = batch.readSlice(length: runEnd - batch.readerIndex) {
                result.buffers.append(Writes.Buffer(bytes: run, isOneLargeFrame: false))
            }
        }
        return result
    }
}
