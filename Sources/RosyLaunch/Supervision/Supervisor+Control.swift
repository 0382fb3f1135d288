#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Answers control-socket requests from inside the supervisor loop.
extension Supervisor {
    func handle(request: String) -> String {
        let words = request.split(separator: " ").map(String.init)
        guard let verb = words.first else { return "error empty request\n" }
        switch verb {
        case "status":
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            guard let data = try? encoder.encode(snapshot()) else { return "error cannot encode the status\n" }
            return String(decoding: data, as: UTF8.self) + "\n"
        case "shutdown":
            logs.note("shutdown asked through the control socket")
            beginStop()
            return "ok stopping\n"
        case "start", "stop", "restart":
            guard words.count >= 2 else { return "error \(verb) needs a node name\n" }
            guard phase != .stopping && phase != .done else { return "error the launch is stopping\n" }
            var replies: [String] = []
            for name in words.dropFirst() {
                let copies = allCopies.filter { $0.node.name == name || $0.label == name }
                guard !copies.isEmpty else {
                    let names = groups.map(\.node.name)
                    let hint = Suggestion.nearest(to: name, in: names).map { " (did you mean '\($0)'?)" } ?? ""
                    return "error no node '\(name)' runs in this launch\(hint)\n"
                }
                if phase == .starting && copies.contains(where: { $0.state == .waiting }) {
                    return "error '\(name)' has not started yet\n"
                }
                for copy in copies { control(verb, copy) }
                replies.append("\(verb) \(name)")
            }
            return "ok " + replies.joined(separator: ", ") + "\n"
        default:
            return "error unknown request '\(verb)' (status, start, stop, restart, shutdown)\n"
        }
    }

    private func control(_ verb: String, _ copy: NodeCopy) {
        logs.note("\(verb) \(copy.label) asked through the control socket")
        switch verb {
        case "stop":
            copy.stoppedByUser = true
            copy.restartAfterStop = false
            apply(.stop, to: copy)
        case "start":
            copy.stoppedByUser = false
            if copy.state == .stopping { copy.restartAfterStop = true } else { apply(.start, to: copy) }
        default:  // restart
            copy.stoppedByUser = false
            if copy.pid != nil {
                copy.restartAfterStop = true
                apply(.stop, to: copy)
            } else {
                apply(.start, to: copy)
            }
        }
    }

    func snapshot() -> LaunchStatus {
        let now = Posix.now()
        let nodes = allCopies.map { copy in
            LaunchStatus.Node(
                node: copy.node.name, copy: copy.index, label: copy.label, pid: copy.pid,
                state: copy.state.rawValue, restarts: copy.machine.restarts,
                uptime: copy.pid != nil ? copy.startedAt.map { now - $0 } : nil,
                lastExit: copy.machine.lastExit.map { "\($0)" }, failure: copy.machine.failure)
        }
        let phaseName: String
        switch phase {
        case .starting: phaseName = "starting"
        case .running: phaseName = "running"
        case .stopping, .done: phaseName = "stopping"
        }
        return LaunchStatus(file: config.path, pid: getpid(), domainID: plan.domainID,
                            logDirectory: runDirectory, phase: phaseName, nodes: nodes)
    }
}
