import Dispatch
import Foundation
import Synchronization

/// Calls `handler` once when one of `signals` arrives; the signals' default action
/// (ending the process) is off while it waits.
final class SignalWaiter: @unchecked Sendable {  // sources are only cancelled, which is thread-safe
    private let sources: [any DispatchSourceSignal]

    init(signals: [Int32], handler: @escaping @Sendable () -> Void) {
        let fired = Once()
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { if fired.claim() { handler() } }
            source.resume()
            return source
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}

private final class Once: Sendable {
    private let done = Mutex(false)
    func claim() -> Bool { done.withLock { done in defer { done = true }; return !done } }
}
