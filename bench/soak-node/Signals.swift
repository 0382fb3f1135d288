import Dispatch
import Foundation

/// Calls `handler` on a global queue each time signal `number` arrives; the signal's default
/// action is off while the returned source lives (cancel it to stop).
///
/// ```swift
/// let quiesce = onSignal(SIGUSR1) { report.write(stage: "quiesced") }
/// ```
///
/// `handler` is `@Sendable`, so it never runs isolated to the main actor (as a closure
/// written in main.swift's top-level code otherwise would, and trap on a global queue).
func onSignal(_ number: Int32, _ handler: @escaping @Sendable () -> Void) -> any DispatchSourceSignal {
    signal(number, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
    source.setEventHandler(handler: handler)
    source.resume()
    return source
}
