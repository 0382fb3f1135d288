/// The service calls of one connection that wait for their response, by request id (u16).
///
/// Ids are handed out in turn, skipping those still waiting, so an id comes back only after
/// the others: a response that arrives after its call timed out meets no newer call. The
/// table is an array indexed by the id's low bits, doubled when half full: finding a call
/// hashes nothing.
///
/// ```swift
/// var pending = PendingCalls<String>()
/// let id = pending.insert("first")!   // 0
/// pending.remove(id)                  // "first"
/// ```
struct PendingCalls<Call> {
    private var slots: [(id: UInt16, call: Call)?]
    private var nextID: UInt16 = 0
    /// How many calls wait.
    private(set) var count = 0

    /// At most 65,536 calls wait: one per id.
    static var capacity: Int { Int(UInt16.max) + 1 }

    init(initialSlots: Int = 16) {
        precondition(initialSlots > 0 && initialSlots & (initialSlots - 1) == 0, "a power of two")
        slots = Array(repeating: nil, count: initialSlots)
    }

    var isEmpty: Bool { count == 0 }

    /// Stores `call` under the next free id and returns the id; `nil` if every id is taken.
    mutating func insert(_ call: Call) -> UInt16? {
        guard count < Self.capacity else { return nil }
        while true {
            let id = nextID
            nextID &+= 1
            if slots[slot(id)] == nil {
                slots[slot(id)] = (id, call)
                count += 1
                return id
            }
            // The slot holds an older call. Below half full, the next id will do; above,
            // more room keeps the skipping short.
            if count * 2 >= slots.count && slots.count < Self.capacity {
                grow()
                if slots[slot(id)] == nil {
                    slots[slot(id)] = (id, call)
                    count += 1
                    return id
                }
            }
        }
    }

    /// The call waiting under `id`.
    subscript(id: UInt16) -> Call? {
        guard let entry = slots[slot(id)], entry.id == id else { return nil }
        return entry.call
    }

    /// Takes the call waiting under `id` out, if there is one and `matches` accepts it.
    @discardableResult
    mutating func remove(_ id: UInt16, if matches: (Call) -> Bool = { _ in true }) -> Call? {
        let slot = slot(id)
        guard let entry = slots[slot], entry.id == id, matches(entry.call) else { return nil }
        slots[slot] = nil
        count -= 1
        return entry.call
    }

    /// Changes the call waiting under `id`; `nil` if none waits.
    mutating func modify<Result>(_ id: UInt16, _ body: (inout Call) -> Result) -> Result? {
        let slot = slot(id)
        guard var entry = slots[slot], entry.id == id else { return nil }
        let result = body(&entry.call)
        slots[slot] = entry
        return result
    }

    /// Takes every waiting call out.
    mutating func removeAll() -> [Call] {
        let calls = slots.compactMap { $0?.call }
        slots = Array(repeating: nil, count: slots.count)
        count = 0
        return calls
    }

    private func slot(_ id: UInt16) -> Int {
        Int(id) & (slots.count - 1)
    }

    /// Doubles the table. Ids that differed in their low bits still do with one bit more,
    /// so no two calls meet in a slot.
    private mutating func grow() {
        var larger = [(id: UInt16, call: Call)?](repeating: nil, count: slots.count * 2)
        for case let entry? in slots {
            larger[Int(entry.id) & (larger.count - 1)] = entry
        }
        slots = larger
    }
}
