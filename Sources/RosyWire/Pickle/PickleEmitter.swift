import NIOCore

/// Writes pickle opcodes straight into a `ByteBuffer`, shaped as CPython's `pickle.dumps`
/// (protocol 5) shapes them: the same opcodes, `MEMOIZE` after every memoized object, items
/// in batches of 1000, and `FRAME`s of about 64 KiB, with large str/bytes payloads outside
/// any frame. Python dumps `pickle.loads(x)` back to the very bytes `x` for plain data
/// (sets with more than one element aside: Python orders a set by hash).
struct PickleEmitter {
    /// Where the open frame's 9-byte header was reserved, nil if no frame is open.
    private var frameStart: Int?
    private var framing = true
    private var memoCount = 0
    /// CPython keeps one object for the empty and the one-character strings and bytes, so it
    /// memoizes them once and then refers to them: so does this writer (by value).
    /// Keyed as `sharedIndex` says; a short list searched in order (cheaper than hashing).
    private var sharedSingletons: [(key: UInt16, index: Int)] = []
    /// Globals and the strings naming them, memoized once (Python shares them too).
    private var sharedGlobals: [PickleGlobal: Int] = [:]
    private var sharedNames: [String: Int] = [:]

    /// Payloads of this size or more are left out of the buffer (``deferredPayloads``).
    private let deferThreshold: Int
    /// The payloads left out, with the buffer index where each belongs.
    private(set) var deferredPayloads: [DeferredPayload] = []

    init() { deferThreshold = .max }

    /// An emitter that leaves str and bytes payloads of `threshold` bytes or more out of the
    /// buffer (at least 64 KiB: those are outside any frame, so nothing else moves).
    init(deferringPayloadsFrom threshold: Int) {
        deferThreshold = max(threshold, PickleOpcode.frameSizeTarget)
    }

    // MARK: whole pickles

    mutating func writePickle(of value: Value, into buffer: inout ByteBuffer) {
        if Self.writeShortPickle(of: value, into: &buffer) { return }
        buffer.writeInteger(PickleOpcode.proto)
        buffer.writeInteger(PickleOpcode.highestProtocol)
        write(value, into: &buffer)
        op(PickleOpcode.stop, &buffer)
        commitFrame(&buffer)
    }

    mutating func writePickle(of object: PickleObject, into buffer: inout ByteBuffer) {
        buffer.writeInteger(PickleOpcode.proto)
        buffer.writeInteger(PickleOpcode.highestProtocol)
        write(object, into: &buffer)
        op(PickleOpcode.stop, &buffer)
        commitFrame(&buffer)
    }

    /// A whole pickle of one str or bytes under 64 KiB, of one other scalar, or of a short
    /// tuple of scalars (``PickleShortTuple``), in one buffer access (the most common message
    /// arguments), exactly as the general path writes it. False for anything else.
    @inline(__always)
    static func writeShortPickle(of value: Value, into buffer: inout ByteBuffer) -> Bool {
        guard let size = shortPickleSize(of: value) else { return false }
        buffer.writeRaw(maximum: size) { putShortPickle(of: value, into: $0) }
        return true
    }

    /// The short pickle of `value` put at the start of `space`, if `value` has one and it
    /// fits: its size; nil otherwise (nothing written).
    @inline(__always)
    static func putShortPickle(of value: Value, ifItFits space: UnsafeMutableRawBufferPointer) -> Int? {
        guard let size = shortPickleSize(of: value), size <= space.count else { return nil }
        return putShortPickle(of: value, into: space)
    }

    /// The size of `value`'s short pickle; nil if it has none.
    @inline(__always)
    private static func shortPickleSize(of value: Value) -> Int? {
        switch value {
        case .string(let s):
            let count = s.utf8.count
            return count < PickleOpcode.frameSizeTarget ? shortPayloadSize(count) : nil
        case .bytes(let b):
            return b.count < PickleOpcode.frameSizeTarget ? shortPayloadSize(b.count) : nil
        case .tuple(let items):
            return PickleShortTuple.size(ofTuple: items)
        default:
            return PickleShortTuple.size(ofScalar: value)
        }
    }

    /// Puts `value`'s short pickle at the start of `p` (``shortPickleSize(of:)`` bytes).
    @inline(__always)
    private static func putShortPickle(of value: Value, into p: UnsafeMutableRawBufferPointer) -> Int {
        switch value {
        case .string(let s):
            var s = s
            return s.withUTF8 { utf8 in
                putShortPayload(UnsafeRawBufferPointer(utf8), short: PickleOpcode.shortBinUnicode, long: PickleOpcode.binUnicode, into: p)
            }
        case .bytes(let b):
            return b.withUnsafeBytes { raw in
                putShortPayload(raw, short: PickleOpcode.shortBinBytes, long: PickleOpcode.binBytes, into: p)
            }
        case .tuple(let items):
            return PickleShortTuple.put(tuple: items, into: p)
        default:
            return PickleShortTuple.put(scalar: value, into: p)
        }
    }

    /// A framed str or bytes: opcode and length, payload, MEMOIZE, STOP.
    @inline(__always)
    private static func shortPayloadSize(_ count: Int) -> Int {
        2 + PickleOpcode.frameHeaderSize + (count < 0x100 ? 2 : 5) + count + 2
    }

    @inline(__always)
    private static func putShortPayload(_ payload: UnsafeRawBufferPointer, short: UInt8, long: UInt8, into p: UnsafeMutableRawBufferPointer) -> Int {
        let count = payload.count
        let header = count < 0x100 ? 2 : 5
        let frameLength = header + count + 2  // opcode and length, payload, MEMOIZE, STOP
        p.put(PickleOpcode.proto, at: 0)
        p.put(PickleOpcode.highestProtocol, at: 1)
        p.put(PickleOpcode.frame, at: 2)
        p.put(UInt64(frameLength).littleEndian, at: 3)
        var at = 2 + PickleOpcode.frameHeaderSize
        if count < 0x100 {
            p.put(short, at: at); p.put(UInt8(count), at: at + 1)
        } else {
            p.put(long, at: at); p.put(UInt32(count).littleEndian, at: at + 1)
        }
        at += header
        if count > 0, let base = payload.baseAddress, let target = p.baseAddress {
            (target + at).copyMemory(from: base, byteCount: count)
        }
        at += count
        p.put(PickleOpcode.memoize, at: at)
        p.put(PickleOpcode.stop, at: at + 1)
        return at + 2
    }

    // MARK: values

    mutating func write(_ value: Value, into buffer: inout ByteBuffer) {
        opcodeBoundary(&buffer)
        switch value {
        case .none: op(PickleOpcode.none, &buffer)
        case .bool(let b): op(b ? PickleOpcode.newTrue : PickleOpcode.newFalse, &buffer)
        case .int(let i): writeInt(i, &buffer)
        case .double(let d):
            open(&buffer)
            buffer.writeRaw(maximum: 9) { p in
                p.put(PickleOpcode.binFloat, at: 0); p.put(d.bitPattern.bigEndian, at: 1); return 9
            }
        case .string(let s): writeString(s, &buffer)
        case .bytes(let b): writeBytes(b, &buffer)
        case .tuple(let items):
            writeTuple(count: items.count, &buffer) { emitter, buffer in
                for item in items { emitter.write(item, into: &buffer) }
            }
        case .list(let items):
            op(PickleOpcode.emptyList, &buffer)
            memoize(&buffer)
            writeBatches(items, single: PickleOpcode.append, many: PickleOpcode.appends, &buffer) { emitter, item, buffer in
                emitter.write(item, into: &buffer)
            }
        case .dict(let dict):
            op(PickleOpcode.emptyDict, &buffer)
            memoize(&buffer)
            writeBatches(dict.elements, single: PickleOpcode.setItem, many: PickleOpcode.setItems, &buffer) { emitter, entry, buffer in
                emitter.write(entry.key, into: &buffer)
                emitter.write(entry.value, into: &buffer)
            }
        case .set(let set):
            op(PickleOpcode.emptySet, &buffer)
            memoize(&buffer)
            writeBatches(set, single: nil, many: PickleOpcode.addItems, &buffer) { emitter, item, buffer in
                emitter.write(item, into: &buffer)
            }
        }
    }

    // MARK: objects

    mutating func write(_ object: PickleObject, into buffer: inout ByteBuffer) {
        opcodeBoundary(&buffer)
        switch object {
        case .value(let value):
            write(value, into: &buffer)
            return
        case .bigInt(let bytes):
            writeLong(PickleInteger.minimized(bytes), &buffer)
        case .global(let module, let name):
            let global = PickleGlobal(module, name)
            if let index = sharedGlobals[global] {
                writeGet(index, &buffer)
            } else {
                writeName(module, &buffer)
                writeName(name, &buffer)
                op(PickleOpcode.stackGlobal, &buffer)
                sharedGlobals[global] = memoize(&buffer)
            }
        case .tuple(let items):
            writeTuple(count: items.count, &buffer) { emitter, buffer in
                for item in items { emitter.write(item, into: &buffer) }
            }
        case .list(let items):
            op(PickleOpcode.emptyList, &buffer)
            memoize(&buffer)
            writeBatches(items, single: PickleOpcode.append, many: PickleOpcode.appends, &buffer) { emitter, item, buffer in
                emitter.write(item, into: &buffer)
            }
        case .dict(let dict):
            op(PickleOpcode.emptyDict, &buffer)
            memoize(&buffer)
            writeBatches(dict.elements, single: PickleOpcode.setItem, many: PickleOpcode.setItems, &buffer) { emitter, entry, buffer in
                emitter.write(entry.key, into: &buffer)
                emitter.write(entry.value, into: &buffer)
            }
        case .set(let items):
            op(PickleOpcode.emptySet, &buffer)
            memoize(&buffer)
            writeBatches(items, single: nil, many: PickleOpcode.addItems, &buffer) { emitter, item, buffer in
                emitter.write(item, into: &buffer)
            }
        case .newObject(let type, let args):
            write(type, into: &buffer)
            write(PickleObject.tuple(args), into: &buffer)
            op(PickleOpcode.newObj, &buffer)
            memoize(&buffer)
        case .reduce(let callable, let args):
            write(callable, into: &buffer)
            write(PickleObject.tuple(args), into: &buffer)
            op(PickleOpcode.reduce, &buffer)
            memoize(&buffer)
        case .build(let target, let state):
            write(target, into: &buffer)
            write(state, into: &buffer)
            op(PickleOpcode.build, &buffer)
        }
    }

    // MARK: pieces

    private mutating func writeInt(_ i: Int64, _ buffer: inout ByteBuffer) {
        open(&buffer)
        buffer.writeRaw(maximum: 10) { p in
            if i >= 0 && i < 0x100 {
                p.put(PickleOpcode.binInt1, at: 0); p.put(UInt8(i), at: 1); return 2
            } else if i >= 0 && i < 0x1_0000 {
                p.put(PickleOpcode.binInt2, at: 0); p.put(UInt16(i).littleEndian, at: 1); return 3
            } else if i >= Int64(Int32.min) && i <= Int64(Int32.max) {
                p.put(PickleOpcode.binInt, at: 0); p.put(Int32(i).littleEndian, at: 1); return 5
            }
            // LONG1 with the fewest two's complement bytes (5 to 8 here).
            let width = i < 0 ? 64 - (~i).leadingZeroBitCount + 1 : 64 - i.leadingZeroBitCount + 1
            let count = (width + 7) / 8
            p.put(PickleOpcode.long1, at: 0)
            p.put(UInt8(count), at: 1)
            var v = i
            for k in 0..<count {
                p.put(UInt8(truncatingIfNeeded: v), at: 2 + k)
                v >>= 8
            }
            return 2 + count
        }
    }

    private mutating func writeLong(_ bytes: [UInt8], _ buffer: inout ByteBuffer) {
        if let int = PickleInteger.int64(fromMinimal: bytes) {
            writeInt(int, &buffer)
            return
        }
        open(&buffer)
        if bytes.count < 0x100 {
            buffer.writeInteger(PickleOpcode.long1)
            buffer.writeInteger(UInt8(bytes.count))
        } else {
            buffer.writeInteger(PickleOpcode.long4)
            buffer.writeInteger(UInt32(bytes.count), endianness: .little)
        }
        buffer.writeBytes(bytes)
    }

    /// Strings: 0..<256 one character, 256 empty; bytes: 512 + byte, 768 empty.
    private func sharedIndex(_ key: UInt16) -> Int? {
        for entry in sharedSingletons where entry.key == key { return entry.index }
        return nil
    }

    /// The key under which CPython shares a str or bytes object (the empty ones and those of
    /// one character below U+0100 or one byte), nil for any other value.
    static func singletonKey(of value: Value) -> UInt16? {
        switch value {
        case .string(let s):
            let count = s.utf8.count
            if count == 0 { return 256 }
            if count <= 2, s.unicodeScalars.count == 1, let scalar = s.unicodeScalars.first, scalar.value < 0x100 {
                return UInt16(scalar.value)
            }
            return nil
        case .bytes(let b):
            return b.isEmpty ? 768 : b.count == 1 ? 512 + UInt16(b[0]) : nil
        default:
            return nil
        }
    }

    private mutating func writeString(_ s: String, _ buffer: inout ByteBuffer) {
        let count = s.utf8.count
        let singletonKey = count <= 2 ? Self.singletonKey(of: .string(s)) : nil
        if let key = singletonKey, let index = sharedIndex(key) {
            writeGet(index, &buffer)
            return
        }
        writePayloadHeader(count: count, &buffer, short: PickleOpcode.shortBinUnicode,
                           medium: PickleOpcode.binUnicode, long: PickleOpcode.binUnicode8)
        if count >= deferThreshold {
            deferredPayloads.append(DeferredPayload(offset: buffer.writerIndex, bytes: .string(s)))
        } else {
            buffer.writeString(s)
        }
        endPayload()
        let index = memoize(&buffer)
        if let key = singletonKey { sharedSingletons.append((key, index)) }
    }

    private mutating func writeBytes(_ b: [UInt8], _ buffer: inout ByteBuffer) {
        let singletonKey = b.count <= 1 ? Self.singletonKey(of: .bytes(b)) : nil
        if let key = singletonKey, let index = sharedIndex(key) {
            writeGet(index, &buffer)
            return
        }
        writePayloadHeader(count: b.count, &buffer, short: PickleOpcode.shortBinBytes,
                           medium: PickleOpcode.binBytes, long: PickleOpcode.binBytes8)
        if b.count >= deferThreshold {
            deferredPayloads.append(DeferredPayload(offset: buffer.writerIndex, bytes: .bytes(b)))
        } else {
            buffer.writeBytes(b)
        }
        endPayload()
        let index = memoize(&buffer)
        if let key = singletonKey { sharedSingletons.append((key, index)) }
    }

    /// A module or class name of a global: memoized once, referred to after.
    private mutating func writeName(_ s: String, _ buffer: inout ByteBuffer) {
        if let index = sharedNames[s] {
            writeGet(index, &buffer)
            return
        }
        let count = s.utf8.count
        writePayloadHeader(count: count, &buffer, short: PickleOpcode.shortBinUnicode,
                           medium: PickleOpcode.binUnicode, long: PickleOpcode.binUnicode8)
        buffer.writeString(s)
        endPayload()
        sharedNames[s] = memoize(&buffer)
    }

    /// The opcode and length of a str or bytes payload. A payload of 64 KiB or more goes
    /// outside any frame: the open frame is closed first, and framing resumes after it.
    private mutating func writePayloadHeader(count: Int, _ buffer: inout ByteBuffer, short: UInt8, medium: UInt8, long: UInt8) {
        if count >= PickleOpcode.frameSizeTarget {
            commitFrame(&buffer)
            framing = false
        }
        open(&buffer)
        if count < 0x100 {
            buffer.writeInteger(short)
            buffer.writeInteger(UInt8(count))
        } else if UInt64(count) <= UInt64(UInt32.max) {
            buffer.writeInteger(medium)
            buffer.writeInteger(UInt32(count), endianness: .little)
        } else {
            buffer.writeInteger(long)
            buffer.writeInteger(UInt64(count), endianness: .little)
        }
    }

    private mutating func endPayload() { framing = true }

    private mutating func writeTuple(count: Int, _ buffer: inout ByteBuffer, items: (inout PickleEmitter, inout ByteBuffer) -> Void) {
        switch count {
        case 0:
            op(PickleOpcode.emptyTuple, &buffer)
            return  // Python never memoizes the empty tuple
        case 1...3:
            items(&self, &buffer)
            op(count == 1 ? PickleOpcode.tuple1 : count == 2 ? PickleOpcode.tuple2 : PickleOpcode.tuple3, &buffer)
        default:
            op(PickleOpcode.mark, &buffer)
            items(&self, &buffer)
            op(PickleOpcode.tuple, &buffer)
        }
        memoize(&buffer)
    }

    /// Items as Python's `batch_list`/`batch_dict`/`batch_set` write them: a lone item with
    /// `single` (if given), else MARK ... `many` per 1000 items.
    private mutating func writeBatches<C: Collection>(
        _ items: C, single: UInt8?, many: UInt8, _ buffer: inout ByteBuffer,
        item write: (inout PickleEmitter, C.Element, inout ByteBuffer) -> Void
    ) {
        guard !items.isEmpty else { return }
        if let single, items.count == 1, let only = items.first {
            write(&self, only, &buffer)
            op(single, &buffer)
            return
        }
        var inBatch = 0
        op(PickleOpcode.mark, &buffer)
        for item in items {
            if inBatch == PickleOpcode.batchSize {
                op(many, &buffer)
                op(PickleOpcode.mark, &buffer)
                inBatch = 0
            }
            write(&self, item, &buffer)
            inBatch += 1
        }
        op(many, &buffer)
    }

    private mutating func writeGet(_ index: Int, _ buffer: inout ByteBuffer) {
        open(&buffer)
        if index < 0x100 {
            buffer.writeInteger(PickleOpcode.binGet)
            buffer.writeInteger(UInt8(index))
        } else {
            buffer.writeInteger(PickleOpcode.longBinGet)
            buffer.writeInteger(UInt32(truncatingIfNeeded: index), endianness: .little)
        }
    }

    @discardableResult
    private mutating func memoize(_ buffer: inout ByteBuffer) -> Int {
        op(PickleOpcode.memoize, &buffer)
        memoCount += 1
        return memoCount - 1
    }

    // MARK: framing

    @inline(__always)
    private mutating func op(_ code: UInt8, _ buffer: inout ByteBuffer) {
        open(&buffer)
        buffer.writeInteger(code)
    }

    /// Reserves a frame header before the first write of a frame.
    @inline(__always)
    private mutating func open(_ buffer: inout ByteBuffer) {
        if framing && frameStart == nil {
            frameStart = buffer.writerIndex
            buffer.writeRepeatingByte(0, count: PickleOpcode.frameHeaderSize)
        }
    }

    /// Before each object, as CPython: close the frame once it holds 64 KiB.
    @inline(__always)
    private mutating func opcodeBoundary(_ buffer: inout ByteBuffer) {
        if let start = frameStart,
           buffer.writerIndex - start - PickleOpcode.frameHeaderSize >= PickleOpcode.frameSizeTarget {
            commitFrame(&buffer)
        }
    }

    /// Fills in the open frame's header, or removes it when the frame is too short for one.
    private mutating func commitFrame(_ buffer: inout ByteBuffer) {
        guard let start = frameStart else { return }
        frameStart = nil
        let length = buffer.writerIndex - start - PickleOpcode.frameHeaderSize
        if length >= PickleOpcode.frameSizeMin {
            buffer.setInteger(PickleOpcode.frame, at: start)
            buffer.setInteger(UInt64(length), at: start + 1, endianness: .little)
        } else {
            // At most 3 bytes to move back over the unused header.
            let body = buffer.getBytes(at: start + PickleOpcode.frameHeaderSize, length: length) ?? []
            buffer.setBytes(body, at: start)
            buffer.moveWriterIndex(to: start + length)
        }
    }
}
