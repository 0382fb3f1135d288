import Yams

/// Reads typed values out of YAML nodes, with errors that point at the node's line and column.
struct NodeReader {
    let file: String

    func location(_ node: Node) -> SourceLocation {
        SourceLocation(file: file, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0)
    }

    func isNull(_ node: Node) -> Bool {
        guard let scalar = node.scalar else { return false }
        return scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    func mapping(_ node: Node, what: String) throws -> [(Node, Node)] {
        guard case .mapping(let mapping) = node else {
            throw LaunchConfigError("\(what) must be a mapping of 'key: value' lines", at: location(node))
        }
        return Array(mapping)
    }

    func value(_ key: String, in pairs: [(Node, Node)]) -> Node? {
        pairs.first { $0.0.scalar?.string == key }?.1
    }

    /// Every key must be known; an unknown one is reported with the nearest known key.
    func checkKeys(_ pairs: [(Node, Node)], known: [String], what: String) throws {
        for (key, _) in pairs {
            guard let name = key.scalar?.string else {
                throw LaunchConfigError("keys must be plain words \(what)", at: location(key))
            }
            if known.contains(name) { continue }
            let hint = Suggestion.nearest(to: name, in: known).map { " (did you mean '\($0)'?)" } ?? ""
            throw LaunchConfigError("unknown key '\(name)' \(what)\(hint)", at: location(key))
        }
    }

    func string(_ node: Node, key: String) throws -> String {
        guard let scalar = node.scalar, !isNull(node) || key == "node name" else {
            throw LaunchConfigError("'\(key)' must be a text value", at: location(node))
        }
        return scalar.string
    }

    func bool(_ node: Node, key: String) throws -> Bool {
        switch node.scalar?.string.lowercased() {
        case "true", "yes", "on", "y": return true
        case "false", "no", "off", "n": return false
        default: throw LaunchConfigError("'\(key)' must be true or false", at: location(node))
        }
    }

    func int(_ node: Node, key: String, minimum: Int) throws -> Int {
        guard let text = node.scalar?.string, let value = Int(text) else {
            throw LaunchConfigError("'\(key)' must be a whole number", at: location(node))
        }
        guard value >= minimum else {
            throw LaunchConfigError("'\(key)' must be at least \(minimum), not \(value)", at: location(node))
        }
        return value
    }

    func seconds(_ node: Node, key: String) throws -> Double {
        guard let text = node.scalar?.string, let value = Double(text), value.isFinite else {
            throw LaunchConfigError("'\(key)' must be a number of seconds", at: location(node))
        }
        guard value >= 0 else {
            throw LaunchConfigError("'\(key)' must not be negative", at: location(node))
        }
        return value
    }

    /// `1048576`, `512K`, `10M`, `1G` (binary units).
    func byteSize(_ node: Node, key: String) throws -> Int {
        guard var text = node.scalar?.string.uppercased().trimmingCharacters(in: .whitespaces), !text.isEmpty else {
            throw LaunchConfigError("'\(key)' must be a size such as 10M", at: location(node))
        }
        if text.hasSuffix("B") { text.removeLast() }
        var multiplier = 1
        if let last = text.last, let shift = ["K": 10, "M": 20, "G": 30][String(last)] {
            multiplier = 1 << shift
            text.removeLast()
        }
        guard let value = Int(text), value > 0 else {
            throw LaunchConfigError("'\(key)' must be a size such as 10M", at: location(node))
        }
        return value * multiplier
    }

    /// A single string or a list of strings.
    func stringList(_ node: Node, key: String) throws -> [String] {
        switch node {
        case .scalar:
            return isNull(node) ? [] : [try string(node, key: key)]
        case .sequence(let items):
            return try items.map { try string($0, key: key) }
        default:
            throw LaunchConfigError("'\(key)' must be a text value or a list of them", at: location(node))
        }
    }

    func environment(_ node: Node) throws -> [EnvironmentEntry] {
        if isNull(node) { return [] }
        var entries: [EnvironmentEntry] = []
        for (key, value) in try mapping(node, what: "'env'") {
            let name = try string(key, key: "env key")
            guard !name.isEmpty, !name.contains("=") else {
                throw LaunchConfigError("environment variable name '\(name)' is not valid", at: location(key))
            }
            entries.append(EnvironmentEntry(name, isNull(value) ? "" : try string(value, key: "env.\(name)")))
        }
        return entries
    }

    func signal(_ node: Node, key: String) throws -> Int32 {
        guard let text = node.scalar?.string else {
            throw LaunchConfigError("'\(key)' must be a signal name such as SIGINT", at: location(node))
        }
        if let number = Int32(text), number > 0, number < 65 { return number }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name.removeFirst(3) }
        guard let number = SignalNames.number(of: name) else {
            let hint = Suggestion.nearest(to: name, in: SignalNames.all.map(\.0)).map { " (did you mean 'SIG\($0)'?)" } ?? ""
            throw LaunchConfigError("unknown signal '\(text)'\(hint)", at: location(node))
        }
        return number
    }

    func node(name: String, _ node: Node, at keyLocation: SourceLocation) throws -> NodeConfig {
        let pairs = try mapping(node, what: "node '\(name)'")
        try checkKeys(pairs, known: LaunchConfigLoader.nodeKeys, what: "in node '\(name)'")
        guard let commandNode = value("command", in: pairs) else {
            throw LaunchConfigError("node '\(name)' has no 'command'", at: keyLocation)
        }
        let command: NodeCommand
        switch commandNode {
        case .scalar where !isNull(commandNode):
            command = .string(try string(commandNode, key: "command"))
        case .sequence(let items) where !items.isEmpty:
            command = .list(try items.map { try string($0, key: "command") })
        default:
            throw LaunchConfigError("'command' of node '\(name)' must be a text or a non-empty list",
                                    at: location(commandNode))
        }
        if case .string(let text) = command, text.trimmingCharacters(in: .whitespaces).isEmpty {
            throw LaunchConfigError("'command' of node '\(name)' is empty", at: location(commandNode))
        }
        let shell = try value("shell", in: pairs).map { try bool($0, key: "shell") }
        var config = NodeConfig(name: name, location: keyLocation, command: command, shell: shell)
        for (keyNode, v) in pairs {
            guard let key = keyNode.scalar?.string else { continue }
            switch key {
            case "args": config.args = try stringList(v, key: key)
            case "number": config.number = try int(v, key: key, minimum: 0)
            case "pre_delay": config.preDelay = try seconds(v, key: key)
            case "post_delay": config.postDelay = try seconds(v, key: key)
            case "disabled": config.disabled = try bool(v, key: key)
            case "on_host": config.onHost = isNull(v) ? nil : try string(v, key: key)
            case "restart":
                let text = try string(v, key: key)
                guard let policy = RestartPolicy(rawValue: text) else {
                    let names = RestartPolicy.allCases.map(\.rawValue)
                    let hint = Suggestion.nearest(to: text, in: names).map { " (did you mean '\($0)'?)" } ?? ""
                    throw LaunchConfigError("'restart' must be one of \(names.joined(separator: ", ")), not '\(text)'\(hint)",
                                            at: location(v))
                }
                config.restart = policy
            case "backoff": config.backoff = try backoff(v)
            case "max_restarts": config.maxRestarts = try int(v, key: key, minimum: 0)
            case "required": config.required = try bool(v, key: key)
            case "env": config.environment = try environment(v)
            case "cwd": config.workingDirectory = isNull(v) ? nil : try string(v, key: key)
            case "stop_signal": config.stopSignal = try signal(v, key: key)
            case "stop_timeout": config.stopTimeout = try seconds(v, key: key)
            case "pass_name": config.passName = try bool(v, key: key)
            case "ready_after": config.readyAfter = try seconds(v, key: key)
            case "after": config.after = try stringList(v, key: key)
            case "wait_for": config.waitFor = try waitFor(v)
            case "wait_timeout": config.waitTimeout = isNull(v) ? nil : try seconds(v, key: key)
            default: break
            }
        }
        return config
    }

    func backoff(_ node: Node) throws -> Backoff {
        var backoff = Backoff()
        let pairs = try mapping(node, what: "'backoff'")
        try checkKeys(pairs, known: LaunchConfigLoader.backoffKeys, what: "in 'backoff'")
        for (keyNode, v) in pairs {
            switch keyNode.scalar?.string {
            case "initial": backoff.initial = try seconds(v, key: "backoff.initial")
            case "factor":
                backoff.factor = try seconds(v, key: "backoff.factor")
                if backoff.factor < 1 { throw LaunchConfigError("'backoff.factor' must be at least 1", at: location(v)) }
            case "max": backoff.maximum = try seconds(v, key: "backoff.max")
            case "reset_after": backoff.resetAfter = try seconds(v, key: "backoff.reset_after")
            default: break
            }
        }
        return backoff
    }

    func waitFor(_ node: Node) throws -> [MeshCondition] {
        if isNull(node) { return [] }
        let items: [Node]
        if case .sequence(let sequence) = node { items = Array(sequence) } else { items = [node] }
        return try items.map { item in
            let pairs = try mapping(item, what: "a 'wait_for' entry (e.g. 'topic: pose')")
            try checkKeys(pairs, known: LaunchConfigLoader.waitForKeys, what: "in 'wait_for'")
            guard pairs.count == 1, let key = pairs[0].0.scalar?.string else {
                throw LaunchConfigError("each 'wait_for' entry names one of node, topic or service", at: location(item))
            }
            let name = try string(pairs[0].1, key: "wait_for.\(key)")
            switch key {
            case "node": return .node(name)
            case "topic": return .topic(name)
            default: return .service(name)
            }
        }
    }
}
