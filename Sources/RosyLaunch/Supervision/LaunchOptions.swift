/// Settings of one run that come from the command line rather than the launch file.
public struct LaunchOptions: Sendable {
    /// `--domain-id`: overrides the file's `domain_id`.
    public var domainID: String?
    /// `--exclude`: nodes not to start.
    public var exclude: [String] = []
    /// `--only`: start just these nodes.
    public var only: [String] = []
    /// `--log-dir`: overrides the file's `log_dir`.
    public var logDirectory: String?
    /// `--no-log-files`: terminal only.
    public var writeLogFiles = true
    /// `--timestamps`: overrides the file's `log_timestamps`.
    public var timestamps: Bool?
    /// Colour the terminal output (on a terminal, without `NO_COLOR`).
    public var color = false
    /// `--socket`: where the control socket goes (default: the runtime folder).
    public var controlSocket: String?
    /// The host name `on_host` is compared with.
    public var hostName: String
    /// The environment the nodes inherit.
    public var environment: [String: String]
    /// How `wait_for` sees the mesh.
    public var meshReadiness: MeshReadinessFactory = noMeshReadiness

    public init(hostName: String, environment: [String: String]) {
        self.hostName = hostName
        self.environment = environment
    }
}

/// What a launch file starts on this host with these options: the map `--dry-run` prints.
public struct LaunchPlan: Sendable {
    public struct Entry: Sendable {
        public var node: NodeConfig
        /// Labels of the copies (`camera`, or `camera-1`, `camera-2`...).
        public var copies: [String]
        /// The argument vector of each copy.
        public var arguments: [[String]]
    }

    /// Nodes that start, in start order.
    public var entries: [Entry] = []
    /// Nodes that do not start, with the reason.
    public var skipped: [(name: String, reason: String)] = []
    /// `ROSY_DOMAIN_ID` for the nodes, if set.
    public var domainID: String?

    public init(config: LaunchConfig, options: LaunchOptions) throws {
        domainID = options.domainID ?? config.domainID
        let names = Set(config.nodes.map(\.name))
        for name in options.exclude + options.only where !names.contains(name) {
            let hint = Suggestion.nearest(to: name, in: Array(names)).map { " (did you mean '\($0)'?)" } ?? ""
            throw LaunchConfigError("no node '\(name)' in the launch file\(hint)", file: config.path)
        }
        for node in config.nodes {
            if node.disabled { skipped.append((node.name, "disabled")); continue }
            if let host = node.onHost, host != options.hostName {
                skipped.append((node.name, "on_host \(host), this is \(options.hostName)")); continue
            }
            if options.exclude.contains(node.name) { skipped.append((node.name, "excluded")); continue }
            if !options.only.isEmpty && !options.only.contains(node.name) {
                skipped.append((node.name, "not in --only")); continue
            }
            if node.number == 0 { skipped.append((node.name, "number: 0")); continue }
            let labels = (1...node.number).map { NodeCopy.label(node: node.name, index: $0, of: node.number) }
            let arguments = labels.map {
                CommandLineBuilder.arguments(for: node.command, shell: node.shell, args: node.args,
                                             name: node.passName ? $0 : nil)
            }
            entries.append(Entry(node: node, copies: labels, arguments: arguments))
        }
        // `after` may name a node that does not start here: it can never be satisfied.
        let starting = Set(entries.map(\.node.name))
        for entry in entries {
            for name in entry.node.after where !starting.contains(name) {
                throw LaunchConfigError("node '\(entry.node.name)' waits for '\(name)', which does not start "
                    + "(disabled, on another host or excluded)", at: entry.node.location)
            }
        }
    }
}
