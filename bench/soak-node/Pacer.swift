/// Runs a step `rate` times a second, on a fixed schedule (a late step does not move the
/// next ones), until the task is cancelled.
///
/// ```swift
/// try await Pacer(rate: 100).run { try await node.send("topic", 1) }
/// ```
struct Pacer {
    let rate: Double

    func run(_ step: () async throws -> Void) async {
        let clock = ContinuousClock()
        let interval = Duration.seconds(1 / max(rate, 0.001))
        var next = clock.now
        while !Task.isCancelled {
            try? await step()
            next += interval
            // Behind by more than a second (a loaded machine): start the schedule afresh
            // rather than sending a burst.
            if clock.now - next > .seconds(1) { next = clock.now }
            do { try await clock.sleep(until: next) } catch { return }
        }
    }
}
