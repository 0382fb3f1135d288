import Foundation

/// Which TXT record of one mDNS instance to believe, when answers arrive out of order.
///
/// A responder may send an answer it chose before its record changed after the
/// announcement of the new record (python-zeroconf queues answers for 20-120 ms with the
/// records of the moment of the query). A node that adds a service right after it starts
/// is then seen first with the service, then without it, until the next answer: its
/// service looks gone for a second or more. So a TXT equal to one this instance already
/// replaced is a suspect: it is believed only when it is still the answer at least
/// ``confirmAfter`` seconds later (after a new query), and meanwhile the current one stands.
///
/// ```swift
/// var txt = TXTFreshness()
/// txt.see(v1, at: t)          // .changed
/// txt.see(v2, at: t + 0.1)    // .changed
/// txt.see(v1, at: t + 0.2)    // .suspect: v2 stands; ask again
/// txt.see(v2, at: t + 1.7)    // .same: it was a late answer
/// ```
struct TXTFreshness: Sendable {
    enum Verdict: Equatable {
        /// The record believed already.
        case same
        /// A record to believe from now on.
        case changed
        /// A record this instance had before: not believed (yet); ask again.
        case suspect
    }

    /// Seconds after which a record seen before, and seen again, is believed.
    static let confirmAfter: TimeInterval = 1.0
    /// How many replaced records are remembered.
    static let remembered = 4

    private(set) var current: [UInt8]?
    private var replaced: [[UInt8]] = []
    private var suspect: (blob: [UInt8], since: Date)?

    mutating func see(_ blob: [UInt8], at now: Date) -> Verdict {
        if blob == current {
            suspect = nil
            return .same
        }
        if replaced.contains(blob) {
            guard let suspect, suspect.blob == blob, now.timeIntervalSince(suspect.since) >= Self.confirmAfter else {
                if self.suspect?.blob != blob { self.suspect = (blob, now) }
                return .suspect
            }
        }
        replaced.removeAll { $0 == blob }
        if let current {
            replaced.append(current)
            if replaced.count > Self.remembered { replaced.removeFirst() }
        }
        current = blob
        suspect = nil
        return .changed
    }
}
