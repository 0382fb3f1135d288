import NIOCore

/// The topic messages waiting for one peer's connection, in send order (no I/O here).
///
/// Small frames are encoded straight into one shared batch buffer, back to back, so a
/// message costs no allocation of its own and a whole batch goes to the socket as one
/// write. Large frames keep their own buffer (no copy). Each message also has an entry
/// that says where it ends and when it expires, for the bound (drop the oldest), the
/// time-to-live and the order between small and large frames.
///
/// ```swift
/// var outbox = Outbox(allocator: allocator)
/// try outbox.append(deadline: deadline) { try FrameEncoder.writeTopicMessage(..., into: &$0) }
/// let batch = outbox.takeAll(now: .now())   // the writes, in order, and how many expired
/// ```
struct Outbox {
    /// Frames up to this size are copied into the batch buffer; larger ones go as they are.
    static let coalesceLimit = 4096
    /// The batch buffer's first capacity.
    static let batchCapacity = 64 * 1024

    private enum Frame {
        /// A frame in `batch` that ends at this writer index.
        case inBatch(end: Int)
        /// A frame too large to copy.
        case own(ByteBuffer)
    }

    private struct Entry {
        var frame: Frame
        var deadline: NIODeadline
    }

    private let allocator: ByteBufferAllocator
    private var batch: ByteBuffer
    private var entries = CircularBuffer<Entry>(initialCapacity: 16)

    init(allocator: ByteBufferAllocator) {
        self.allocator = allocator
        self.batch = allocator.buffer(capacity: 0)
    }

    /// How many messages wait.
    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }

    /// Appends one message that `encode` writes into the batch buffer. When `encode` throws,
    /// the outbox is unchanged (it must leave the buffer as it found it, as
    /// ``FrameEncoder`` does).
    mutating func append(deadline: NIODeadline, encode: (inout ByteBuffer) throws -> Void) rethrows {
        if batch.capacity == 0 { batch.reserveCapacity(Self.batchCapacity) }
        try encode(&batch)
        entries.append(Entry(frame: .inBatch(end: batch.writerIndex), deadline: deadline))
    }

    /// Appends one encoded message: copied into the batch when small, kept as it is when large.
    mutating func append(_ frame: ByteBuffer, deadline: NIODeadline) {
        if frame.readableBytes <= Self.coalesceLimit {
            append(deadline: deadline) { $0.writeImmutableBuffer(frame) }
        } else {
            entries.append(Entry(frame: .own(frame), deadline: deadline))
        }
    }

    /// Drops the oldest message.
    mutating func removeFirst() {
        guard let first = entries.popFirst() else { return }
        if case .inBatch(let end) = first.frame { batch.moveReaderIndex(to: end) }
        if entries.isEmpty { batch.clear() }
    }

    /// Drops every message.
    mutating func removeAll() {
        entries.removeAll()
        batch.clear()
    }

    /// What ``takeAll(now:)`` hands over: the buffers to write, in order, and how many
    /// messages had expired (those are not in `writes`).
    struct Taken {
        var writes: [ByteBuffer] = []
        var expired = 0
    }

    /// Takes every waiting message, leaving the outbox empty. Messages past their deadline are
    /// left out; consecutive small frames come as one buffer.
    mutating func takeAll(now: NIODeadline) -> Taken {
        var taken = Taken()
        guard !entries.isEmpty else { return taken }
        var batch = self.batch
        self.batch = allocator.buffer(capacity: 0)
        let entries = self.entries
        self.entries.removeAll(keepingCapacity: true)

        // Deadlines grow in send order, so the expired messages are the oldest ones.
        var start = entries.startIndex
        while start != entries.endIndex, entries[start].deadline < now {
            taken.expired += 1
            if case .inBatch(let end) = entries[start].frame { batch.moveReaderIndex(to: end) }
            start = entries.index(after: start)
        }
        // The usual case, small frames only: the whole batch is one write.
        var index = start
        while index != entries.endIndex {
            switch entries[index].frame {
            case .inBatch(let end):
                // The run of small frames up to the next large one (or the end).
                var runEnd = end
                var next = entries.index(after: index)
                while next != entries.endIndex, case .inBatch(let nextEnd) = entries[next].frame {
                    runEnd = nextEnd
                    next = entries.index(after: next)
                }
                if next == entries.endIndex, runEnd == batch.writerIndex {
                    taken.writes.append(batch)
                } else if let run = batch.readSlice(length: runEnd - batch.readerIndex) {
                    taken.writes.append(run)
                }
                index = next
            case .own(let frame):
                taken.writes.append(frame)
                index = entries.index(after: index)
            }
        }
        return taken
    }
}
