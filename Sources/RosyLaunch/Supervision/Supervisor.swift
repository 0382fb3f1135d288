#if canImport(Glibc)
import Glibc
#endif
import CRosySys

/// Runs a launch: starts the nodes in file order, restarts them by their policy, routes their
/// output, answers the control socket and stops everything in reverse order.
///
/// One thread, one `poll` loop, one set of deadlines (as s6-supervise): signals arrive through
/// a self-pipe, child exits through SIGCHLD, and every decision about a node goes through its
/// `NodeStateMachine`.
///
/// ```swift
/// let supervisor = try Supervisor(config: config, options: options)
/// let status = supervisor.run()   // returns when the launch has ended; the exit status
/// ```
public final class Supervisor {
    enum Phase { case starting, running, stopping, done }
    enum StartStep { case preDelay(until: Double), waiting(since: Double), postDelay(until: Double) }

    struct Group {
        let node: NodeConfig
        let copies: [NodeCopy]
        let arguments: [[String]]
    }

    let config: LaunchConfig
    let options: LaunchOptions
    let plan: LaunchPlan
    let logs: LogWriter
    let runDirectory: String?
    let groups: [Group]
    var phase = Phase.starting
    /// The group whose start is under way, and where it is.
    var nextGroup = 0
    var startStep: StartStep?
    /// Groups started so far, in start order (stopped in reverse).
    var startedGroups: [Int] = []
    var stopQueue: [Int] = []
    var stopForced = false
    var requiredFailure: String?
    var copiesByPID: [pid_t: NodeCopy] = [:]
    /// Process groups of descendants that left their node's group (setsid helpers), which the
    /// watchdog also kills if rosy-launch dies; and when to look for them next.
    var strayGroups = Set<pid_t>()
    var nextStrayScan = 0.0

    var signalPipe: (read: Int32, write: Int32) = (-1, -1)
    var watchdog: OrphanWatchdog?
    var control: ControlServer?
    var systemd: SystemdNotifier?
    var nextWatchdogPing = 0.0
    var mesh: (any MeshReadiness)?
    var lastStatus = ""
    let launchStartedAt = Posix.now()
    let baseEnvironment: [String: String]
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 8)

    /// Prepares a launch (nothing starts before `run()`); `runDirectory` is the folder for
    /// this run's log files, nil for none. Throws when `--exclude`/`--only` name unknown nodes
    /// or a log file cannot be opened.
    public init(config: LaunchConfig, options: LaunchOptions, runDirectory: String?) throws {
        self.config = config
        self.options = options
        self.plan = try LaunchPlan(config: config, options: options)
        self.runDirectory = runDirectory
        let width = plan.entries.flatMap(\.copies).map(\.utf8.count).max() ?? 0
        let logs = try LogWriter(options: .init(
            color: options.color, timestamps: options.timestamps ?? config.logTimestamps,
            runDirectory: runDirectory, maximumSize: config.logMaxSize, keep: config.logKeep,
            labelWidth: max(width, "rosy-launch".count)))
        var groups: [Group] = []
        for entry in plan.entries {
            let copies = try entry.copies.enumerated().map { index, label in
                NodeCopy(node: entry.node, index: index + 1, log: try logs.source(label: label, node: entry.node.name))
            }
            groups.append(Group(node: entry.node, copies: copies, arguments: entry.arguments))
        }
        self.logs = logs
        self.groups = groups
        baseEnvironment = Self.environment(config: config, options: options, plan: plan)
    }

    deinit { readBuffer.deallocate() }

    var allCopies: [NodeCopy] { groups.flatMap(\.copies) }

    // MARK: - Running

    /// Runs the launch to its end and returns the exit status: 0 for a clean stop, 1 when a
    /// required node failed.
    public func run() -> Int32 {
        do {
            try prepare()
        } catch {
            logs.note("cannot start the launch: \(error)")
            control?.close()
            watchdog?.dismiss()
            logs.close()
            return 1
        }
        for (name, reason) in plan.skipped { logs.note("skipping \(name): \(reason)") }
        if let runDirectory { logs.note("logs in \(runDirectory)") }
        if plan.entries.isEmpty { logs.note("no node to start") }
        logs.flush()

        advance()
        while phase != .done {
            logs.flush()
            pollOnce()
            advance()
        }
        finish()
        logs.close()
        return requiredFailure == nil ? 0 : 1
    }

    private func prepare() throws {
        signalPipe = try Posix.pipe()
        try Posix.setNonBlocking(signalPipe.read)
        try Posix.setNonBlocking(signalPipe.write)
        let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGCHLD]
        guard crosy_install_signal_pipe(signalPipe.write, signals, Int32(signals.count)) == 0 else {
            throw PosixError("sigaction")
        }
        _ = crosy_unblock_all_signals()
        if crosy_set_child_subreaper() != 0 { logs.note("warning: cannot become a child subreaper") }
        watchdog = try OrphanWatchdog()
        if let path = options.controlSocket {
            control = try ControlServer(path: path)
        }
        systemd = SystemdNotifier(environment: options.environment)
        if groups.contains(where: { !$0.node.waitFor.isEmpty }) {
            mesh = try options.meshReadiness(plan.domainID)
            if mesh == nil {
                throw LaunchConfigError("'wait_for' needs the mesh, which this build of rosy-launch cannot watch yet",
                                        file: config.path)
            }
        }
    }

    /// Waits for the next event or deadline and handles what arrived.
    private func pollOnce() {
        var fds: [pollfd] = [pollfd(fd: signalPipe.read, events: Int16(POLLIN), revents: 0)]
        if let control { fds.append(pollfd(fd: control.fd, events: Int16(POLLIN), revents: 0)) }
        var pipes: [OutputPipe] = []
        for copy in allCopies {
            for pipe in copy.outputs where pipe.isOpen {
                pipes.append(pipe)
                fds.append(pollfd(fd: pipe.fd, events: Int16(POLLIN), revents: 0))
            }
        }
        let timeout = pollTimeout()
        let ready = poll(&fds, nfds_t(fds.count), timeout)
        guard ready > 0 else { return }
        if fds[0].revents != 0 { handleSignals() }
        var offset = 1
        if control != nil {
            if fds[1].revents != 0 { control?.acceptAll { self.handle(request: $0) } }
            offset = 2
        }
        // A pipe may have been read to its end (and closed) while reaping its process above.
        for (i, pipe) in pipes.enumerated() where pipe.isOpen && fds[offset + i].revents != 0 {
            _ = pipe.drain(into: logs, buffer: readBuffer, limit: 256 * 1024)
        }
        for copy in allCopies { copy.outputs.removeAll { !$0.isOpen } }
    }

    /// Milliseconds until the nearest deadline (at most one second).
    private func pollTimeout() -> Int32 {
        let now = Posix.now()
        var next = now + 1
        for copy in allCopies {
            if let deadline = copy.restartDeadline { next = min(next, deadline) }
            if let deadline = copy.stopDeadline { next = min(next, deadline) }
        }
        switch startStep {
        case .preDelay(let until), .postDelay(let until): next = min(next, until)
        case .waiting: next = min(next, now + 0.05)
        case nil: if phase == .starting { next = now }
        }
        if systemd?.watchdogInterval != nil { next = min(next, nextWatchdogPing) }
        next = min(next, nextStrayScan)
        return Int32(max(0, min(1000, ((next - now) * 1000).rounded(.up))))
    }

    private func handleSignals() {
        var bytes = [UInt8](repeating: 0, count: 64)
        var reap = false
        while true {
            let n = read(signalPipe.read, &bytes, bytes.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            for byte in bytes[0..<n] {
                switch Int32(byte) {
                case SIGCHLD: reap = true
                case let signal:
                    if phase == .stopping {
                        if !stopForced {
                            logs.note("\(SignalNames.name(of: signal)) again: killing every node now")
                            killEverything()
                        }
                    } else {
                        logs.note("\(SignalNames.name(of: signal)): stopping")
                        beginStop()
                    }
                }
            }
        }
        if reap { reapChildren() }
    }

    /// Reaps every exited child: nodes, the watchdog, and descendants re-parented to us.
    func reapChildren() {
        var ended: [(copy: NodeCopy, pid: pid_t, status: Int32)] = []
        while true {
            let pid = crosy_peek_exited_child()
            guard pid > 0 else { break }
            let copy = copiesByPID[pid]
            // The node's leader is still a zombie here, so its pid (= its process group id)
            // cannot be reused: kill what is left of its group (background helpers) first.
            if copy != nil { kill(-pid, SIGKILL) }
            var status: Int32 = 0
            guard crosy_reap(pid, &status) == pid else { break }
            guard let copy else { continue }
            copiesByPID[pid] = nil
            watchdog?.forget(group: pid)
            ended.append((copy, pid, status))
        }
        // A helper that left the group of a node that just ended is our child now, and no
        // longer a node's descendant, where the watchdog would find it: it learns the
        // helper's group now rather than at the next 2-s scan. (While the launch stops,
        // `finish` kills every such helper anyway, and a scan per exit would slow the stop.)
        if !ended.isEmpty && phase != .stopping && phase != .done {
            watchStrayGroups(afterNodeExit: true)
        }
        for (copy, pid, status) in ended {
            let exit: ExitStatus = crosy_wifsignaled(status) != 0
                ? .signal(crosy_wtermsig(status)) : .code(crosy_wexitstatus(status))
            let ranFor = Posix.now() - (copy.startedAt ?? Posix.now())
            copy.pid = nil
            copy.stopDeadline = nil
            // Read what the process wrote before it died, so its last lines come before the note.
            for pipe in copy.outputs where pipe.isOpen {
                _ = pipe.drain(into: logs, buffer: readBuffer, limit: 1 << 20)
            }
            logs.note("\(copy.label) (pid \(pid)) ended: \(exit) after \(Self.duration(ranFor))")
            apply(.exited(exit, ranFor: ranFor), to: copy)
        }
    }

    // MARK: - Node events and actions

    func apply(_ event: NodeStateMachine.Event, to copy: NodeCopy) {
        let actions = copy.machine.handle(event)
        for action in actions { perform(action, for: copy) }
        if copy.machine.state.isFinal && copy.restartAfterStop && phase != .stopping {
            copy.restartAfterStop = false
            copy.stoppedByUser = false
            apply(.start, to: copy)
        }
    }

    private func perform(_ action: NodeStateMachine.Action, for copy: NodeCopy) {
        switch action {
        case .spawn:
            copy.restartDeadline = nil
            spawn(copy)
        case .scheduleRestart(let delay):
            copy.restartDeadline = Posix.now() + delay
            logs.note("\(copy.label): restarting in \(Self.duration(delay))")
        case .cancelRestart:
            copy.restartDeadline = nil
        case .sendStopSignal:
            guard let pid = copy.pid else { return }
            kill(-pid, copy.node.stopSignal)
            copy.stopDeadline = Posix.now() + copy.node.stopTimeout
        case .killProcessGroup:
            guard let pid = copy.pid else { return }
            logs.note("\(copy.label) did not stop within \(Self.duration(copy.node.stopTimeout)): SIGKILL")
            kill(-pid, SIGKILL)
            copy.stopDeadline = nil
        case .reportFailed(let reason):
            logs.note("\(copy.label) FAILED: \(reason)")
            if copy.node.required && requiredFailure == nil {
                requiredFailure = "\(copy.label): \(reason)"
                logs.note("\(copy.label) is required: stopping the launch")
                beginStop()
            }
        }
    }

    private func spawn(_ copy: NodeCopy) {
        guard let group = groups.first(where: { $0.node.name == copy.node.name }) else { return }
        let request = SpawnRequest(arguments: group.arguments[copy.index - 1],
                                   environment: environment(for: copy),
                                   workingDirectory: copy.node.workingDirectory.map {
                                       EnvironmentExpansion.expand($0, in: baseEnvironment)
                                   })
        do {
            let process = try Spawner.spawn(request)
            copy.pid = process.pid
            copy.startedAt = Posix.now()
            copiesByPID[process.pid] = copy
            watchdog?.watch(group: process.pid)
            // Pipes of an earlier run stay until their end: their last lines are not lost.
            copy.outputs += [OutputPipe(fd: process.stdout, stream: .stdout, source: copy.log),
                             OutputPipe(fd: process.stderr, stream: .stderr, source: copy.log)]
            logs.note("\(copy.label) started (pid \(process.pid))")
            apply(.spawned, to: copy)
        } catch {
            logs.note("\(copy.label): \(error)")
            apply(.spawnFailed, to: copy)
        }
    }

    // MARK: - Deadlines and progress

    /// Moves the start sequence, restarts and stops along.
    private func advance() {
        let now = Posix.now()
        for copy in allCopies {
            // While the launch stops, nothing restarts: a copy in backoff is stopped in its turn.
            if phase != .stopping, let deadline = copy.restartDeadline, deadline <= now {
                copy.restartDeadline = nil
                apply(.backoffElapsed, to: copy)
            }
            if let deadline = copy.stopDeadline, deadline <= now {
                copy.stopDeadline = nil
                apply(.stopTimedOut, to: copy)
            }
        }
        if now >= nextStrayScan && phase != .done {
            nextStrayScan = now + 2
            watchStrayGroups()
        }
        switch phase {
        case .starting: advanceStart(now: now)
        case .running: checkNaturalEnd()
        case .stopping: advanceStop()
        case .done: break
        }
        if let systemd {
            if systemd.watchdogInterval != nil && now >= nextWatchdogPing {
                systemd.send("WATCHDOG=1")
                nextWatchdogPing = now + (systemd.watchdogInterval ?? 1)
            }
            let status = statusLine()
            if status != lastStatus {
                lastStatus = status
                systemd.send("STATUS=\(status)")
            }
        }
    }

    private func advanceStart(now: Double) {
        while phase == .starting {
            guard nextGroup < groups.count else {
                phase = .running
                startStep = nil
                logs.note(groups.count == 1 ? "the node has started" : "all \(groups.count) nodes started")
                systemd?.send("READY=1")
                return
            }
            let group = groups[nextGroup]
            switch startStep {
            case nil:
                startStep = .preDelay(until: now + group.node.preDelay)
            case .preDelay(let until):
                guard now >= until else { return }
                startStep = .waiting(since: now)
            case .waiting(let since):
                if let failed = group.node.after.first(where: { name in
                    groups.first { $0.node.name == name }?.copies.contains { $0.state == .failed } == true
                }) {
                    for copy in group.copies { apply(.gaveUpWaiting(reason: "node \(failed) failed"), to: copy) }
                    startStep = .postDelay(until: now)
                    continue
                }
                if !group.node.waitFor.isEmpty, let problem = mesh?.problem {
                    for copy in group.copies { apply(.gaveUpWaiting(reason: problem), to: copy) }
                    startStep = .postDelay(until: now)
                    continue
                }
                if let blocker = startBlocker(group.node) {
                    if let timeout = group.node.waitTimeout, now - since >= timeout {
                        for copy in group.copies {
                            apply(.gaveUpWaiting(reason: "waited \(Self.duration(timeout)) for \(blocker)"), to: copy)
                        }
                        startStep = .postDelay(until: now)
                        continue
                    }
                    return
                }
                for copy in group.copies { apply(.start, to: copy) }
                startedGroups.append(nextGroup)
                startStep = .postDelay(until: now + group.node.postDelay)
            case .postDelay(let until):
                guard now >= until else { return }
                nextGroup += 1
                startStep = nil
            }
        }
    }

    /// What a node still waits for before it may start, or nil.
    private func startBlocker(_ node: NodeConfig) -> String? {
        let now = Posix.now()
        for name in node.after {
            guard let other = groups.first(where: { $0.node.name == name }) else { continue }
            let started = other.copies.allSatisfy { copy in
                if copy.state == .running, let startedAt = copy.startedAt {
                    return now - startedAt >= other.node.readyAfter
                }
                return copy.state == .exited && copy.machine.lastExit?.isSuccess == true
            }
            if !started { return "node \(name)" }
        }
        for condition in node.waitFor where mesh?.isSatisfied(condition) != true {
            return "\(condition) in the mesh"
        }
        return nil
    }

    /// The launch ends by itself when every node has finished (none stopped by the user).
    private func checkNaturalEnd() {
        let copies = allCopies
        guard copies.allSatisfy({ $0.state.isFinal && $0.pid == nil }),
              !copies.contains(where: { $0.stoppedByUser }) else { return }
        logs.note(copies.isEmpty ? "nothing to run" : "every node has ended")
        phase = .done
    }

    // MARK: - Stopping

    func beginStop() {
        guard phase != .stopping && phase != .done else { return }
        phase = .stopping
        startStep = nil
        systemd?.send("STOPPING=1")
        // Nodes not started yet never will be; waiting restarts are cancelled.
        for copy in allCopies where copy.pid == nil { apply(.stop, to: copy) }
        stopQueue = startedGroups.reversed()
        advanceStop()
    }

    private func advanceStop() {
        while let index = stopQueue.first {
            let copies = groups[index].copies
            for copy in copies where copy.pid != nil && copy.state != .stopping {
                apply(.stop, to: copy)
            }
            for copy in copies where copy.pid == nil && !copy.state.isFinal { apply(.stop, to: copy) }
            if copies.contains(where: { $0.pid != nil }) { return }
            stopQueue.removeFirst()
        }
        if allCopies.allSatisfy({ $0.pid == nil }) { phase = .done }
    }

    /// Finds descendants in process groups of their own (helpers that called setsid or
    /// setpgid): the watchdog learns their groups, so they die with the launch even when
    /// rosy-launch is killed. Run every 2 s (a /proc scan costs about a millisecond) and
    /// `afterNodeExit`, when a node's helper may have just become our child, even if no node
    /// runs any more.
    func watchStrayGroups(afterNodeExit: Bool = false) {
        guard let watchdog, afterNodeExit || !copiesByPID.isEmpty || !strayGroups.isEmpty else { return }
        let table = Posix.processTable()
        var children: [pid_t: [pid_t]] = [:]
        var groupOf: [pid_t: pid_t] = [:]
        for entry in table {
            children[entry.parent, default: []].append(entry.pid)
            groupOf[entry.pid] = entry.group
        }
        let me = getpid()
        let ownGroup = getpgrp()
        var found = Set<pid_t>()
        var queue = children[me] ?? []
        while let pid = queue.popLast() {
            queue += children[pid] ?? []
            guard let group = groupOf[pid], group != ownGroup, group != watchdog.pid,
                  copiesByPID[group] == nil else { continue }
            found.insert(group)
        }
        for group in found.subtracting(strayGroups) {
            watchdog.watch(group: group)
            logs.note("watching process group \(group): a helper that left its node's group")
        }
        for group in strayGroups.subtracting(found) { watchdog.forget(group: group) }
        strayGroups = found
    }

    /// Second Ctrl+C: SIGKILL every node's process group now.
    private func killEverything() {
        stopForced = true
        for copy in allCopies {
            if let pid = copy.pid { kill(-pid, SIGKILL) }
        }
    }

    /// After the last node: kill and reap descendants re-parented to us, read the last
    /// output, dismiss the watchdog.
    private func finish() {
        // Every node is gone, so every descendant left is now our child: kill until none is.
        for _ in 0..<50 {
            let strays = Posix.children(of: getpid()).filter { $0 != watchdog?.pid }
            if strays.isEmpty { break }
            for pid in strays { kill(pid, SIGKILL) }
            usleep(10_000)
            var status: Int32 = 0
            while waitpid(-1, &status, WNOHANG) > 0 {}
        }
        for copy in allCopies {
            for pipe in copy.outputs where pipe.isOpen {
                _ = pipe.drain(into: logs, buffer: readBuffer, limit: 1 << 20)
                if pipe.isOpen { close(pipe.fd); pipe.isOpen = false }
            }
        }
        watchdog?.dismiss()
        if let watchdog {
            var status: Int32 = 0
            waitpid(watchdog.pid, &status, 0)
        }
        mesh?.close()
        control?.close()
        if let requiredFailure {
            logs.note("stopped because a required node failed: \(requiredFailure)")
        } else {
            logs.note("stopped")
        }
    }

    // MARK: - Helpers

    func statusLine() -> String {
        let copies = allCopies
        let running = copies.filter { $0.state == .running }.count
        let failed = copies.filter { $0.state == .failed }.count
        switch phase {
        case .starting: return "starting: \(running) of \(copies.count) running"
        case .stopping, .done: return "stopping"
        case .running: return "\(running) of \(copies.count) running" + (failed > 0 ? ", \(failed) failed" : "")
        }
    }

    static func duration(_ seconds: Double) -> String {
        if seconds < 1 { return "\(Int((seconds * 1000).rounded())) ms" }
        if seconds < 120 { return "\(Double(Int(seconds * 10)) / 10) s" }
        return "\(Int(seconds / 60)) min"
    }
}
