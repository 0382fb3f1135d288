/// Ids for names (topics or services) that come and go: each name present gets an id, and
/// a name that leaves and comes back gets its old id again (the protocol allows reuse when
/// nothing about the channel changed, and a client's layout keeps working).
///
/// ```swift
/// var table = NameTable()
/// let change = table.update(to: ["pose", "scan"])   // added: [(1, "pose"), (2, "scan")]
/// table.update(to: ["scan"]).removed                 // [1]
/// ```
struct NameTable: Sendable {
    /// What an update changed.
    struct Change: Equatable, Sendable {
        var added: [(id: UInt32, name: String)] = []
        var removed: [UInt32] = []

        var isEmpty: Bool { added.isEmpty && removed.isEmpty }

        static func == (lhs: Change, rhs: Change) -> Bool {
            lhs.removed == rhs.removed && lhs.added.map(\.id) == rhs.added.map(\.id)
                && lhs.added.map(\.name) == rhs.added.map(\.name)
        }
    }

    /// The names present now, by id.
    private(set) var present: [UInt32: String] = [:]
    private var everSeen: [String: UInt32] = [:]
    private var nextID: UInt32 = 1

    /// The id of a present name.
    func id(of name: String) -> UInt32? {
        guard let id = everSeen[name], present[id] != nil else { return nil }
        return id
    }

    /// Makes `names` the present set; the change lists added names in sorted order.
    mutating func update(to names: Set<String>) -> Change {
        var change = Change()
        for (id, name) in present where !names.contains(name) {
            change.removed.append(id)
        }
        change.removed.sort()
        for id in change.removed { present[id] = nil }
        for name in names.sorted() where id(of: name) == nil {
            let id = everSeen[name] ?? allocate(name)
            present[id] = name
            change.added.append((id, name))
        }
        return change
    }

    private mutating func allocate(_ name: String) -> UInt32 {
        let id = nextID
        nextID &+= 1
        everSeen[name] = id
        return id
    }
}
