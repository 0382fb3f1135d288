import OrderedCollections

/// One object while a pickle is read. Containers refer to other slots by index, so memo
/// references (`BINGET`, `DUP`) share an object and later updates (`APPENDS`, `SETITEMS`,
/// `BUILD`) reach every reference, as in Python, without copying.
enum PickleSlot {
    case value(Value)
    case bigInt([UInt8])
    case global(PickleGlobal)
    case list([Int])
    case tuple([Int])
    /// Keys and values, alternating.
    case dict([Int])
    case set([Int])
    case newObject(type: Int, args: Int)
    case reduce(callable: Int, args: Int)
    case build(object: Int, state: Int)
}

/// The pickle virtual machine, restricted to data: it runs the opcodes of protocols 0 to 5
/// that build plain data, and (when `allowed` is set) records the object-building steps of
/// allowed globals without running them. Everything else is a ``CodecError``.
struct PickleMachine {
    /// Globals the caller allows as objects; nil: plain data only.
    let allowed: Set<PickleGlobal>?
    let maxDepth: Int
    var arena: [PickleSlot] = []
    var stack: [Int] = []
    var marks: [Int] = []
    /// Memo index -> slot index + 1 (0: unset).
    var memo: [Int] = []
    var memoCount = 0
    /// How many more objects materializing may produce (shared references repeat objects).
    var budget = 0

    /// The highest memo index accepted: an honest pickle has fewer memo entries than bytes.
    var maxMemoIndex = 256

    init(allowed: Set<PickleGlobal>?, maxDepth: Int) {
        self.allowed = allowed
        self.maxDepth = maxDepth
        arena.reserveCapacity(16)
        stack.reserveCapacity(16)
        memo.reserveCapacity(16)
    }

    /// The plain-data constructors Python's own pickles of plain data call (sets and bytes in
    /// protocols 2 and 3). They are evaluated here, never looked up.
    static let dataConstructors: Set<PickleGlobal> = [
        PickleGlobal("builtins", "set"), PickleGlobal("builtins", "frozenset"),
        PickleGlobal("builtins", "bytes"), PickleGlobal("builtins", "bytearray"),
        PickleGlobal("_codecs", "encode"),
    ]

    // MARK: running

    /// Runs the pickle at the start of `p` up to its STOP. Returns the result's slot and the
    /// number of bytes read.
    mutating func run(_ p: UnsafeRawBufferPointer) throws -> (root: Int, consumed: Int) {
        var pos = 0
        let end = p.count
        maxMemoIndex = max(256, end)

        @inline(__always) func need(_ n: Int, _ what: StaticString) throws {
            guard n >= 0, n <= end - pos else { throw PickleMachine.error("truncated pickle: \(what) needs \(n) bytes, \(end - pos) left") }
        }
        @inline(__always) func u8() throws -> UInt8 {
            guard pos < end else { throw PickleMachine.error("truncated pickle: no STOP opcode") }
            defer { pos += 1 }
            return p[pos]
        }
        @inline(__always) func le<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
            try need(MemoryLayout<T>.size, "an integer")
            defer { pos += MemoryLayout<T>.size }
            return T(littleEndian: p.loadUnaligned(fromByteOffset: pos, as: T.self))
        }
        func bytes(_ n: Int) throws -> UnsafeRawBufferPointer {
            try need(n, "a payload")
            defer { pos += n }
            return UnsafeRawBufferPointer(rebasing: p[pos..<(pos + n)])
        }
        func line() throws -> UnsafeRawBufferPointer {
            var i = pos
            while i < end, p[i] != 0x0A { i += 1 }
            guard i < end else { throw PickleMachine.error("truncated pickle: text argument without newline") }
            defer { pos = i + 1 }
            return UnsafeRawBufferPointer(rebasing: p[pos..<i])
        }
        func lengthPrefixed(_ length: UInt64) throws -> UnsafeRawBufferPointer {
            guard length <= UInt64(end - pos) else {
                throw PickleMachine.error("truncated pickle: length \(length) beyond the \(end - pos) bytes left")
            }
            return try bytes(Int(length))
        }

        while true {
            let op = try u8()
            switch op {
            case PickleOpcode.proto:
                let version = try u8()
                guard version <= PickleOpcode.highestProtocol else {
                    throw Self.error("unsupported pickle protocol \(version)")
                }
            case PickleOpcode.frame:
                let length = try le(UInt64.self)
                guard length <= UInt64(end - pos) else {
                    throw Self.error("truncated pickle: frame of \(length) bytes, \(end - pos) left")
                }
            case PickleOpcode.stop:
                let root = try pop()
                return (root, pos)

            // Scalars
            case PickleOpcode.none: push(.value(.none))
            case PickleOpcode.newTrue: push(.value(.bool(true)))
            case PickleOpcode.newFalse: push(.value(.bool(false)))
            case PickleOpcode.binInt1: push(.value(.int(Int64(try u8()))))
            case PickleOpcode.binInt2: push(.value(.int(Int64(try le(UInt16.self)))))
            case PickleOpcode.binInt: push(.value(.int(Int64(try le(Int32.self)))))
            case PickleOpcode.long1:
                let n = Int(try u8())
                pushInteger(try bytes(n))
            case PickleOpcode.long4:
                let n = try le(Int32.self)
                guard n >= 0 else { throw Self.error("LONG4 with negative length") }
                pushInteger(try bytes(Int(n)))
            case PickleOpcode.binFloat:
                try need(8, "BINFLOAT")
                let bits = UInt64(bigEndian: p.loadUnaligned(fromByteOffset: pos, as: UInt64.self))
                pos += 8
                push(.value(.double(Double(bitPattern: bits))))
            case PickleOpcode.shortBinUnicode:
                push(.value(.string(try Self.string(try bytes(Int(try u8()))))))
            case PickleOpcode.binUnicode:
                push(.value(.string(try Self.string(try lengthPrefixed(UInt64(try le(UInt32.self)))))))
            case PickleOpcode.binUnicode8:
                push(.value(.string(try Self.string(try lengthPrefixed(try le(UInt64.self))))))
            case PickleOpcode.shortBinBytes:
                push(.value(.bytes(Array(try bytes(Int(try u8()))))))
            case PickleOpcode.binBytes:
                push(.value(.bytes(Array(try lengthPrefixed(UInt64(try le(UInt32.self)))))))
            case PickleOpcode.binBytes8, PickleOpcode.byteArray8:
                push(.value(.bytes(Array(try lengthPrefixed(try le(UInt64.self))))))
            case PickleOpcode.shortBinString:
                push(.value(.string(try Self.ascii(try bytes(Int(try u8()))))))
            case PickleOpcode.binString:
                let n = try le(Int32.self)
                guard n >= 0 else { throw Self.error("BINSTRING with negative length") }
                push(.value(.string(try Self.ascii(try bytes(Int(n))))))
            case PickleOpcode.int:
                let text = try line()
                if text.elementsEqual("00".utf8) { push(.value(.bool(false))); break }
                if text.elementsEqual("01".utf8) { push(.value(.bool(true))); break }
                push(.value(.int(try Self.decimal(text))))
            case PickleOpcode.long:
                var text = try line()
                if let last = text.last, last == UInt8(ascii: "L") { text = UnsafeRawBufferPointer(rebasing: text.dropLast()) }
                push(.value(.int(try Self.decimal(text))))
            case PickleOpcode.float:
                let text = try line()
                guard let string = try? Self.ascii(text), let double = Double(string) else {
                    throw Self.error("FLOAT opcode with a malformed number")
                }
                push(.value(.double(double)))
            case PickleOpcode.unicode:
                push(.value(.string(try Self.rawUnicodeEscape(try line()))))

            // Containers
            case PickleOpcode.emptyTuple: push(.tuple([]))
            case PickleOpcode.tuple1: let a = try pop(); push(.tuple([a]))
            case PickleOpcode.tuple2: let b = try pop(), a = try pop(); push(.tuple([a, b]))
            case PickleOpcode.tuple3: let c = try pop(), b = try pop(), a = try pop(); push(.tuple([a, b, c]))
            case PickleOpcode.tuple: push(.tuple(try popMark()))
            case PickleOpcode.emptyList: push(.list([]))
            case PickleOpcode.list: push(.list(try popMark()))
            case PickleOpcode.emptyDict: push(.dict([]))
            case PickleOpcode.dict:
                let items = try popMark()
                guard items.count % 2 == 0 else { throw Self.error("DICT with an odd number of items") }
                push(.dict(items))
            case PickleOpcode.emptySet: push(.set([]))
            case PickleOpcode.frozenSet: push(.set(try popMark()))
            case PickleOpcode.append:
                let item = try pop()
                try extend(try top(), with: [item], op: "APPEND")
            case PickleOpcode.appends:
                let items = try popMark()
                try extend(try top(), with: items, op: "APPENDS")
            case PickleOpcode.setItem:
                let value = try pop(), key = try pop()
                try extend(try top(), with: [key, value], op: "SETITEM")
            case PickleOpcode.setItems:
                let items = try popMark()
                guard items.count % 2 == 0 else { throw Self.error("SETITEMS with an odd number of items") }
                try extend(try top(), with: items, op: "SETITEMS")
            case PickleOpcode.addItems:
                let items = try popMark()
                try extend(try top(), with: items, op: "ADDITEMS")

            // Stack and memo
            case PickleOpcode.mark: marks.append(stack.count)
            case PickleOpcode.pop:
                if stack.count > (marks.last ?? 0) { stack.removeLast() } else { _ = try popMark() }
            case PickleOpcode.popMark: _ = try popMark()
            case PickleOpcode.dup: stack.append(try top())
            case PickleOpcode.memoize: try put(memoCount)
            case PickleOpcode.binPut: try put(Int(try u8()))
            case PickleOpcode.longBinPut: try put(Int(try le(UInt32.self)))
            case PickleOpcode.put: try put(Int(try Self.decimal(try line())))
            case PickleOpcode.binGet: try get(Int(try u8()))
            case PickleOpcode.longBinGet: try get(Int(try le(UInt32.self)))
            case PickleOpcode.get: try get(Int(try Self.decimal(try line())))

            // Objects
            case PickleOpcode.stackGlobal:
                let name = try pop(), module = try pop()
                guard case .value(.string(let n)) = arena[name], case .value(.string(let m)) = arena[module] else {
                    throw Self.error("STACK_GLOBAL needs two strings")
                }
                try pushGlobal(PickleGlobal(m, n))
            case PickleOpcode.global:
                let module = try Self.string(try line()), name = try Self.string(try line())
                try pushGlobal(PickleGlobal(module, name))
            case PickleOpcode.reduce:
                let args = try pop(), callable = try pop()
                try reduce(callable, args)
            case PickleOpcode.newObj:
                let args = try pop(), type = try pop()
                try newObject(type, args)
            case PickleOpcode.newObjEx:
                let kwargs = try pop(), args = try pop(), type = try pop()
                guard case .dict(let items) = arena[kwargs], items.isEmpty else {
                    throw Self.error("NEWOBJ_EX with keyword arguments is not supported")
                }
                try newObject(type, args)
            case PickleOpcode.build:
                let state = try pop(), object = try top()
                guard allowed != nil else {
                    throw Self.error("opcode BUILD sets an object's state, which plain data never needs")
                }
                arena.append(arena[object])
                arena[object] = .build(object: arena.count - 1, state: state)

            case PickleOpcode.inst, PickleOpcode.obj:
                throw Self.error("opcode \(op == PickleOpcode.inst ? "INST" : "OBJ") builds an object of a class: refused")
            case PickleOpcode.persID, PickleOpcode.binPersID:
                throw Self.error("persistent ids (opcode PERSID/BINPERSID) are not supported")
            case PickleOpcode.ext1, PickleOpcode.ext2, PickleOpcode.ext4:
                throw Self.error("extension-registry globals (opcode EXT1/2/4) are refused")
            case PickleOpcode.nextBuffer, PickleOpcode.readonlyBuffer:
                throw Self.error("out-of-band buffers (opcode NEXT_BUFFER/READONLY_BUFFER) are not supported")
            case PickleOpcode.string:
                throw Self.error("protocol 0 STRING opcode is not supported")
            default:
                throw Self.error("invalid pickle opcode 0x\(String(op, radix: 16)) at byte \(pos - 1)")
            }
        }
    }

    // MARK: stack

    @inline(__always) mutating func push(_ slot: PickleSlot) {
        arena.append(slot)
        stack.append(arena.count - 1)
    }

    @inline(__always) mutating func pop() throws -> Int {
        guard stack.count > (marks.last ?? 0), let id = stack.popLast() else {
            throw Self.error("pickle stack underflow")
        }
        return id
    }

    @inline(__always) func top() throws -> Int {
        guard stack.count > (marks.last ?? 0), let id = stack.last else {
            throw Self.error("pickle stack underflow")
        }
        return id
    }

    mutating func popMark() throws -> [Int] {
        guard let mark = marks.popLast() else { throw Self.error("pickle has no MARK to pop to") }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    mutating func put(_ index: Int) throws {
        guard index >= 0 else { throw Self.error("memo index \(index) is negative") }
        guard index <= maxMemoIndex else { throw Self.error("memo index \(index) too large") }
        let id = try top()
        if index == memo.count {  // MEMOIZE's usual case: the next index
            memo.append(id + 1)
            memoCount += 1
            return
        }
        if index > memo.count { memo.append(contentsOf: repeatElement(0, count: index + 1 - memo.count)) }
        if memo[index] == 0 { memoCount += 1 }
        memo[index] = id + 1
    }

    mutating func get(_ index: Int) throws {
        guard index >= 0, index < memo.count, memo[index] != 0 else {
            throw Self.error("memo key \(index) not found")
        }
        stack.append(memo[index] - 1)
    }

    mutating func pushInteger(_ bytes: UnsafeRawBufferPointer) {
        let minimal = PickleInteger.minimized(Array(bytes))
        if let int = PickleInteger.int64(fromMinimal: minimal) {
            push(.value(.int(int)))
        } else {
            push(.bigInt(minimal))
        }
    }

    /// Adds items to the list, dict (key/value pairs) or set at `target`, in place.
    mutating func extend(_ target: Int, with items: [Int], op: String) throws {
        switch arena[target] {
        case .list(var list):
            arena[target] = .value(.none)  // let go of the array so appending does not copy it
            list.append(contentsOf: items)
            arena[target] = .list(list)
        case .dict(var dict) where op == "SETITEM" || op == "SETITEMS":
            arena[target] = .value(.none)
            dict.append(contentsOf: items)
            arena[target] = .dict(dict)
        case .set(var set) where op == "ADDITEMS":
            arena[target] = .value(.none)
            set.append(contentsOf: items)
            arena[target] = .set(set)
        default:
            throw Self.error("opcode \(op) applied to something that is not a matching container")
        }
    }

    // MARK: globals and objects

    mutating func pushGlobal(_ given: PickleGlobal) throws {
        var global = given
        if global.module == "__builtin__" { global.module = "builtins" }  // protocol 2 names
        if Self.dataConstructors.contains(global) || allowed?.contains(global) == true {
            push(.global(global))
            return
        }
        if let allowed {
            let names = allowed.map(\.description).sorted().joined(separator: ", ")
            throw Self.error("pickle refers to global \(given), which is not allowed here (allowed: \(names.isEmpty ? "none" : names)); nothing was loaded")
        }
        throw Self.error("pickle refers to global \(given), which is not plain data; refused, nothing was loaded or run")
    }

    mutating func reduce(_ callable: Int, _ args: Int) throws {
        guard case .global(let global) = arena[callable] else {
            throw Self.error("REDUCE of something that is not a global")
        }
        guard case .tuple(let arguments) = arena[args] else {
            throw Self.error("REDUCE arguments are not a tuple")
        }
        if Self.dataConstructors.contains(global) {
            push(try construct(global, arguments))
        } else if allowed != nil {
            push(.reduce(callable: callable, args: args))
        } else {
            throw Self.error("REDUCE of \(global) is not plain data")
        }
    }

    mutating func newObject(_ type: Int, _ args: Int) throws {
        guard allowed != nil, case .global(let global) = arena[type], !Self.dataConstructors.contains(global) else {
            throw Self.error("opcode NEWOBJ builds an object of a class, which plain data never needs")
        }
        guard case .tuple = arena[args] else { throw Self.error("NEWOBJ arguments are not a tuple") }
        push(.newObject(type: type, args: args))
    }

    /// Evaluates a plain-data constructor call as Python's pickles of sets and bytes in
    /// protocols 2 and 3 make them: `set(list)`, `frozenset(list)`, `bytes()`,
    /// `bytearray(bytes)`, `bytearray(str, 'latin-1')`, `_codecs.encode(str, 'latin1')`.
    mutating func construct(_ global: PickleGlobal, _ arguments: [Int]) throws -> PickleSlot {
        let args = arguments.map { arena[$0] }
        switch (global.name, args.count) {
        case ("set", 0), ("frozenset", 0):
            return .set([])
        case ("set", 1), ("frozenset", 1):
            switch args[0] {
            case .list(let items), .tuple(let items), .set(let items): return .set(items)
            default: break
            }
        case ("bytes", 0), ("bytearray", 0):
            return .value(.bytes([]))
        case ("bytearray", 1):
            if case .value(.bytes(let bytes)) = args[0] { return .value(.bytes(bytes)) }
        case ("encode", 2), ("bytearray", 2):
            if case .value(.string(let text)) = args[0], case .value(.string(let encoding)) = args[1],
               ["latin1", "latin-1", "iso-8859-1", "iso8859-1"].contains(encoding.lowercased()) {
                var bytes: [UInt8] = []
                bytes.reserveCapacity(text.utf8.count)
                for scalar in text.unicodeScalars {
                    guard scalar.value < 256 else { throw Self.error("\(global) of text that is not latin-1") }
                    bytes.append(UInt8(scalar.value))
                }
                return .value(.bytes(bytes))
            }
        default: break
        }
        throw Self.error("\(global) called with arguments that are not plain data")
    }

    // MARK: results

    /// The plain value of a slot; throws for objects, globals and integers beyond 64 bits.
    mutating func value(of id: Int, depth: Int = 0) throws -> Value {
        budget -= 1
        guard budget >= 0 else { throw Self.error("pickle expands to too many objects (shared references)") }
        guard depth <= maxDepth else { throw Self.error("pickle nests deeper than \(maxDepth) levels (or is recursive)") }
        switch arena[id] {
        case .value(let value): return value
        case .bigInt: throw Self.error("integer does not fit in 64 bits")
        case .global(let global): throw Self.error("pickle holds the global \(global), not plain data")
        case .newObject, .reduce, .build: throw Self.error("pickle holds an object, not plain data")
        case .list(let items):
            var out: [Value] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try value(of: item, depth: depth + 1)) }
            return .list(out)
        case .tuple(let items):
            var out: [Value] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try value(of: item, depth: depth + 1)) }
            return .tuple(out)
        case .set(let items):
            var out = OrderedSet<Value>()
            out.reserveCapacity(items.count)
            for item in items { out.append(try value(of: item, depth: depth + 1)) }
            return .set(out)
        case .dict(let items):
            var out = OrderedDictionary<Value, Value>(minimumCapacity: items.count / 2)
            var i = 0
            while i + 1 < items.count {
                let key = try value(of: items[i], depth: depth + 1)
                out[key] = try value(of: items[i + 1], depth: depth + 1)
                i += 2
            }
            return .dict(out)
        }
    }

    /// The slot as a ``PickleObject``, plain subtrees folded into `.value`.
    mutating func object(of id: Int, depth: Int = 0) throws -> PickleObject {
        budget -= 1
        guard budget >= 0 else { throw Self.error("pickle expands to too many objects (shared references)") }
        guard depth <= maxDepth else { throw Self.error("pickle nests deeper than \(maxDepth) levels (or is recursive)") }
        switch arena[id] {
        case .value(let value): return .value(value)
        case .bigInt(let bytes): return .bigInt(bytes)
        case .global(let global): return .global(global)
        case .newObject(let type, let args):
            return .newObject(class: try object(of: type, depth: depth + 1), args: try tupleItems(args, depth: depth + 1))
        case .reduce(let callable, let args):
            return .reduce(callable: try object(of: callable, depth: depth + 1), args: try tupleItems(args, depth: depth + 1))
        case .build(let target, let state):
            return .build(object: try object(of: target, depth: depth + 1), state: try object(of: state, depth: depth + 1))
        case .list(let items):
            let objects = try items.map { try object(of: $0, depth: depth + 1) }
            if let values = Self.plain(objects) { return .value(.list(values)) }
            return .list(objects)
        case .tuple(let items):
            let objects = try items.map { try object(of: $0, depth: depth + 1) }
            if let values = Self.plain(objects) { return .value(.tuple(values)) }
            return .tuple(objects)
        case .set(let items):
            let objects = try items.map { try object(of: $0, depth: depth + 1) }
            if let values = Self.plain(objects) { return .value(.set(OrderedSet(values))) }
            return .set(Array(OrderedSet(objects)))
        case .dict(let items):
            var dict = OrderedDictionary<PickleObject, PickleObject>(minimumCapacity: items.count / 2)
            var i = 0
            while i + 1 < items.count {
                let key = try object(of: items[i], depth: depth + 1)
                dict[key] = try object(of: items[i + 1], depth: depth + 1)
                i += 2
            }
            if let keys = Self.plain(Array(dict.keys)), let values = Self.plain(Array(dict.values)) {
                var plain = OrderedDictionary<Value, Value>(minimumCapacity: keys.count)
                for (key, value) in zip(keys, values) { plain[key] = value }
                return .value(.dict(plain))
            }
            return .dict(dict)
        }
    }

    private mutating func tupleItems(_ id: Int, depth: Int) throws -> [PickleObject] {
        guard case .tuple(let items) = arena[id] else { throw Self.error("object arguments are not a tuple") }
        return try items.map { try object(of: $0, depth: depth + 1) }
    }

    private static func plain(_ objects: [PickleObject]) -> [Value]? {
        var values: [Value] = []
        values.reserveCapacity(objects.count)
        for object in objects {
            guard case .value(let value) = object else { return nil }
            values.append(value)
        }
        return values
    }

    // MARK: decoding helpers

    static func error(_ message: String) -> CodecError { CodecError(codec: "pickle", message) }

    static func string(_ bytes: UnsafeRawBufferPointer) throws -> String {
        guard let string = UTF8Text.decode(bytes) else {
            throw error("string is not valid UTF-8 (lone surrogates cannot be represented)")
        }
        return string
    }

    static func ascii(_ bytes: UnsafeRawBufferPointer) throws -> String {
        guard bytes.allSatisfy({ $0 < 0x80 }) else { throw error("protocol 0-2 byte string is not ASCII") }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func decimal(_ text: UnsafeRawBufferPointer) throws -> Int64 {
        guard let string = try? ascii(text),
              let value = Int64(string.trimmingSpaces) else {
            throw error("text integer is malformed or does not fit in 64 bits")
        }
        return value
    }

    /// Python's raw-unicode-escape: latin-1 bytes plus `\uXXXX` and `\UXXXXXXXX`.
    static func rawUnicodeEscape(_ bytes: UnsafeRawBufferPointer) throws -> String {
        var scalars = String.UnicodeScalarView()
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\\"), i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "u") || bytes[i + 1] == UInt8(ascii: "U") {
                let digits = bytes[i + 1] == UInt8(ascii: "u") ? 4 : 8
                guard i + 2 + digits <= bytes.count,
                      let code = UInt32(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(i + 2)..<(i + 2 + digits)]), as: UTF8.self), radix: 16),
                      let scalar = Unicode.Scalar(code) else {
                    throw error("UNICODE opcode with a malformed escape")
                }
                scalars.append(scalar)
                i += 2 + digits
            } else {
                scalars.append(Unicode.Scalar(b))
                i += 1
            }
        }
        return String(scalars)
    }
}

extension String {
    fileprivate var trimmingSpaces: Substring {
        var s = self[...]
        while let f = s.first, f == " " { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\r" { s = s.dropLast() }
        return s
    }
}
