/// Cuts a stream of output bytes into lines, keeping a partial line until its end arrives.
///
/// A line longer than `maximumLength` is passed on in pieces of that size, so a program that
/// never prints a newline cannot make the supervisor hold unbounded memory.
///
/// ```swift
/// var lines = LineAssembler()
/// lines.feed(bytes) { line in print(String(decoding: line, as: UTF8.self)) }
/// lines.finish { line in ... }   // at end of stream: the last, unterminated line
/// ```
public struct LineAssembler: Sendable {
    public let maximumLength: Int
    private var pending: [UInt8] = []

    public init(maximumLength: Int = 64 * 1024) {
        self.maximumLength = max(1, maximumLength)
    }

    /// Bytes of an unfinished line waiting for their newline.
    public var pendingCount: Int { pending.count }

    /// Feeds bytes; calls `emit` with each complete line (without its newline).
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) -> Void) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        var start = 0
        let count = bytes.count
        while start < count {
            let rest = UnsafeRawBufferPointer(start: base + start, count: count - start)
            guard let newline = rest.firstIndex(of: 0x0A) else {
                pending.append(contentsOf: rest)
                while pending.count >= maximumLength {
                    pending.withUnsafeBytes { emit(UnsafeRawBufferPointer(rebasing: $0[0..<maximumLength])) }
                    pending.removeFirst(maximumLength)
                }
                return
            }
            let line = UnsafeRawBufferPointer(start: base + start, count: newline)
            if pending.isEmpty {
                emitPieces(line, emit: emit)
            } else {
                pending.append(contentsOf: line)
                let joined = pending
                pending.removeAll(keepingCapacity: true)
                joined.withUnsafeBytes { emitPieces($0, emit: emit) }
            }
            start += newline + 1
        }
    }

    /// Emits the unfinished line, if any (at end of stream).
    public mutating func finish(emit: (UnsafeRawBufferPointer) -> Void) {
        guard !pending.isEmpty else { return }
        let rest = pending
        pending.removeAll()
        rest.withUnsafeBytes { emitPieces($0, emit: emit) }
    }

    private func emitPieces(_ line: UnsafeRawBufferPointer, emit: (UnsafeRawBufferPointer) -> Void) {
        if line.count <= maximumLength { emit(line); return }
        var offset = 0
        while offset < line.count {
            let end = min(offset + maximumLength, line.count)
            emit(UnsafeRawBufferPointer(rebasing: line[offset..<end]))
            offset = end
        }
    }
}
