/// A launch file, parsed and checked: what `rosy-launch robot.yaml` starts.
///
/// ```swift
/// let launch = try LaunchConfigLoader().load(path: "robot.yaml")
/// for node in launch.nodes { print(node.name, node.command) }
/// ```
public struct LaunchConfig: Sendable {
    /// The file this configuration came from (the top-level one when files are included).
    public var path: String
    /// `domain_id`: passed to every node as `ROSY_DOMAIN_ID`; nil leaves the environment's.
    public var domainID: String?
    /// `env`: variables for every node, in file order (values already expanded).
    public var environment: [EnvironmentEntry]
    /// `log_dir`: the folder that holds one folder per run; nil means `~/.rosy/log`.
    public var logDirectory: String?
    /// `log_max_size`: bytes after which a log file is rotated.
    public var logMaxSize: Int
    /// `log_keep`: rotated files kept per log.
    public var logKeep: Int
    /// `log_timestamps`: prefix each line on the terminal with the time.
    public var logTimestamps: Bool
    /// The nodes in start order (included files' nodes first).
    public var nodes: [NodeConfig]

    public init(path: String, domainID: String? = nil, environment: [EnvironmentEntry] = [],
                logDirectory: String? = nil, logMaxSize: Int = 64 << 20, logKeep: Int = 3,
                logTimestamps: Bool = false, nodes: [NodeConfig] = []) {
        self.path = path
        self.domainID = domainID
        self.environment = environment
        self.logDirectory = logDirectory
        self.logMaxSize = logMaxSize
        self.logKeep = logKeep
        self.logTimestamps = logTimestamps
        self.nodes = nodes
    }
}

/// One `KEY: value` of an `env` mapping.
public struct EnvironmentEntry: Sendable, Equatable {
    public var key: String
    /// The raw value: `${VAR}` is expanded when a node's environment is built.
    public var value: String
    public init(_ key: String, _ value: String) { self.key = key; self.value = value }
}

/// Where something in a launch file is: file, line and column (1-based).
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public init(file: String, line: Int, column: Int) {
        self.file = file; self.line = line; self.column = column
    }
    public var description: String { "\(file):\(line):\(column)" }
}

/// A node's command as written: a string for the shell, or a list of arguments.
public enum NodeCommand: Sendable, Equatable {
    case string(String)
    case list([String])
}

/// When a stopped or crashed node is started again.
public enum RestartPolicy: String, Sendable, CaseIterable {
    /// Always, whatever the exit status.
    case always
    /// Only after a non-zero exit status or a death by signal (the default).
    case onFailure = "on-failure"
    /// Never.
    case never
}

/// How long to wait before a restart: `initial * factor^(n-1)` (defaults 0.05 s, 2, 30 s), at most `maximum`,
/// where n counts quick consecutive exits; a run of `resetAfter` seconds resets n.
public struct Backoff: Sendable, Equatable {
    public var initial: Double = 0.05
    public var factor: Double = 2
    public var maximum: Double = 30
    public var resetAfter: Double = 10
    public init() {}
    public init(initial: Double, factor: Double, maximum: Double, resetAfter: Double) {
        self.initial = initial; self.factor = factor; self.maximum = maximum; self.resetAfter = resetAfter
    }

    /// The delay before restart number `attempt` (1-based) of a crash loop.
    public func delay(attempt: Int) -> Double {
        guard attempt > 1 else { return min(initial, maximum) }
        var value = initial
        for _ in 1..<attempt {
            value *= factor
            if value >= maximum { return maximum }
        }
        return min(value, maximum)
    }
}

/// Something the mesh must show before a node starts (`wait_for`).
public enum MeshCondition: Sendable, Equatable, CustomStringConvertible {
    /// A node of this name is in the mesh.
    case node(String)
    /// Some node listens to this topic.
    case topic(String)
    /// Some node provides this service.
    case service(String)

    public var description: String {
        switch self {
        case .node(let name): return "node \(name)"
        case .topic(let topic): return "topic \(topic)"
        case .service(let service): return "service \(service)"
        }
    }
}

/// One entry of `nodes:`.
public struct NodeConfig: Sendable {
    public var name: String
    public var location: SourceLocation
    public var command: NodeCommand
    /// `shell`: run through `/bin/sh -c`; defaults to true for a string, false for a list.
    public var shell: Bool
    /// `args`: arguments appended to the command (before `--name`).
    public var args: [String] = []
    /// `number`: how many copies run.
    public var number: Int = 1
    public var preDelay: Double = 0
    public var postDelay: Double = 0
    public var disabled: Bool = false
    /// `on_host`: the node starts only on the host of this name.
    public var onHost: String?
    public var restart: RestartPolicy = .onFailure
    public var backoff = Backoff()
    /// `max_restarts`: quick consecutive restarts after which the node is marked failed.
    public var maxRestarts: Int = 10
    /// `required`: when this node fails, the whole launch stops.
    public var required: Bool = false
    public var environment: [EnvironmentEntry] = []
    public var workingDirectory: String?
    /// `stop_signal`: the signal that asks the node to stop (default SIGTERM).
    public var stopSignal: Int32 = 15
    /// `stop_timeout`: seconds to wait after the stop signal before SIGKILL.
    public var stopTimeout: Double = 10
    /// `pass_name`: append `--name NAME` to the command (as rosy does).
    public var passName: Bool = true
    /// `ready_after`: seconds this node must have run before it counts as started for the
    /// nodes that name it in `after`.
    public var readyAfter: Double = 0
    /// `after`: nodes that must be running (for their `ready_after`) before this one starts.
    public var after: [String] = []
    /// `wait_for`: what the mesh must show before this node starts.
    public var waitFor: [MeshCondition] = []
    /// `wait_timeout`: seconds to wait for `after`/`wait_for`; nil waits for ever.
    public var waitTimeout: Double?

    public init(name: String, location: SourceLocation, command: NodeCommand, shell: Bool? = nil) {
        self.name = name
        self.location = location
        self.command = command
        if let shell { self.shell = shell } else if case .string = command { self.shell = true } else { self.shell = false }
    }

    /// Whether the node starts on `host` (not disabled, and `on_host` absent or equal).
    public func isEnabled(onHost host: String) -> Bool {
        !disabled && (onHost == nil || onHost == host)
    }
}
