/// The life of one copy of a node, as a pure table: state x event -> new state + actions.
///
/// Nothing here touches a process or a clock: the supervisor feeds events in and carries the
/// actions out, so every transition is tested without starting anything.
///
/// ```swift
/// var machine = NodeStateMachine(policy: .init(restart: .always, backoff: Backoff(), maxRestarts: 3))
/// machine.handle(.start)                     // [.spawn]            state: .starting
/// machine.handle(.spawned)                   // []                  state: .running
/// machine.handle(.exited(.code(1), ranFor: 0.2))  // [.scheduleRestart(after: 0.1)]  state: .backoff
/// ```
public struct NodeStateMachine: Sendable {
    /// Where a node copy is.
    public enum State: String, Sendable, Codable {
        /// Not started yet: waiting for its turn, its delay or its readiness conditions.
        case waiting
        /// Being spawned.
        case starting
        /// Its process runs.
        case running
        /// Crashed; waiting before the next start.
        case backoff
        /// Asked to stop; waiting for its process to exit.
        case stopping
        /// Ended and not restarted: exited by itself, or stopped.
        case exited
        /// Crashed and given up on: no restart policy, or too many quick crashes.
        case failed

        /// Whether the node is finished (exited or failed) until someone starts it again.
        public var isFinal: Bool { self == .exited || self == .failed }
    }

    /// What happened to the node.
    public enum Event: Sendable, Equatable {
        /// Its turn came and its readiness conditions are met (or `rosy-launch start`).
        case start
        /// The process was spawned.
        case spawned
        /// The program could not be started (missing, not executable...).
        case spawnFailed
        /// The process ended, after running that many seconds.
        case exited(ExitStatus, ranFor: Double)
        /// The backoff delay is over.
        case backoffElapsed
        /// A stop was asked for (launch stopping, `rosy-launch stop`).
        case stop
        /// The stop timeout passed and the process still runs.
        case stopTimedOut
        /// Its readiness conditions were not met in time (`wait_timeout`).
        case gaveUpWaiting(reason: String)
    }

    /// What the supervisor must do.
    public enum Action: Sendable, Equatable {
        case spawn
        case scheduleRestart(after: Double)
        case cancelRestart
        /// Send the node's stop signal to its process group and arm the stop timeout.
        case sendStopSignal
        /// SIGKILL the process group.
        case killProcessGroup
        /// The node failed for good (the launch stops when it is `required`).
        case reportFailed(reason: String)
    }

    /// The restart settings of a node.
    public struct Policy: Sendable {
        public var restart: RestartPolicy
        public var backoff: Backoff
        public var maxRestarts: Int
        public init(restart: RestartPolicy, backoff: Backoff, maxRestarts: Int) {
            self.restart = restart; self.backoff = backoff; self.maxRestarts = maxRestarts
        }
        public init(_ node: NodeConfig) {
            self.init(restart: node.restart, backoff: node.backoff, maxRestarts: node.maxRestarts)
        }
    }

    public private(set) var state: State = .waiting
    /// Restarts done so far (all of them, for `status`).
    public private(set) var restarts = 0
    /// Quick exits in a row: the backoff exponent and the crash-loop counter.
    public private(set) var quickExits = 0
    /// Whether the node should be up (false after a stop: the exit is then expected).
    public private(set) var wantedUp = false
    /// The last exit, for `status`.
    public private(set) var lastExit: ExitStatus?
    /// Why the node failed.
    public private(set) var failure: String?
    public let policy: Policy

    public init(policy: Policy) {
        self.policy = policy
    }

    @discardableResult
    public mutating func handle(_ event: Event) -> [Action] {
        switch (state, event) {
        case (.waiting, .start), (.exited, .start), (.failed, .start):
            wantedUp = true
            quickExits = 0
            failure = nil
            state = .starting
            return [.spawn]
        case (.backoff, .start):
            // `rosy-launch start` cuts a backoff wait short.
            wantedUp = true
            state = .starting
            return [.cancelRestart, .spawn]
        case (.starting, .spawned):
            state = .running
            return []
        case (.starting, .spawnFailed):
            lastExit = .spawnFailed
            return afterExit(status: .spawnFailed, ranFor: 0)
        case (.running, .exited(let status, let ranFor)):
            lastExit = status
            return afterExit(status: status, ranFor: ranFor)
        case (.backoff, .backoffElapsed):
            restarts += 1
            state = .starting
            return [.spawn]
        case (.running, .stop):
            wantedUp = false
            state = .stopping
            return [.sendStopSignal]
        case (.starting, .stop), (.waiting, .stop):
            wantedUp = false
            state = .exited
            return []
        case (.backoff, .stop):
            wantedUp = false
            state = .exited
            return [.cancelRestart]
        case (.waiting, .gaveUpWaiting(let reason)):
            state = .failed
            failure = reason
            return [.reportFailed(reason: reason)]
        case (.stopping, .stopTimedOut):
            return [.killProcessGroup]
        case (.stopping, .exited(let status, _)):
            lastExit = status
            state = .exited
            return []
        default:
            // Events that do not apply in a state are ignored (e.g. a second stop).
            return []
        }
    }

    /// Restart, give up or finish after the process ended by itself.
    private mutating func afterExit(status: ExitStatus, ranFor: Double) -> [Action] {
        if ranFor >= policy.backoff.resetAfter { quickExits = 0 }
        let restart: Bool
        switch policy.restart {
        case .always: restart = true
        case .onFailure: restart = !status.isSuccess
        case .never: restart = false
        }
        if !restart {
            if status.isSuccess {
                state = .exited
                return []
            }
            state = .failed
            failure = "\(status)"
            return [.reportFailed(reason: "\(status)")]
        }
        quickExits += 1
        if quickExits > policy.maxRestarts {
            state = .failed
            let reason = "\(status), \(quickExits) times in a row: gave up (max_restarts \(policy.maxRestarts))"
            failure = reason
            return [.reportFailed(reason: reason)]
        }
        state = .backoff
        return [.scheduleRestart(after: policy.backoff.delay(attempt: quickExits))]
    }
}

/// How a node's process ended.
public enum ExitStatus: Sendable, Equatable, Codable, CustomStringConvertible {
    case code(Int32)
    case signal(Int32)
    /// The program could not be started.
    case spawnFailed

    public var isSuccess: Bool { self == .code(0) }

    public var description: String {
        switch self {
        case .code(let code): return "exit status \(code)"
        case .signal(let signal): return "killed by \(SignalNames.name(of: signal))"
        case .spawnFailed: return "could not start"
        }
    }
}
