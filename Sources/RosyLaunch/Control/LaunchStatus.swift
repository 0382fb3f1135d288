/// A running launch's state, as `rosy-launch status` shows it (and `--json` prints it).
public struct LaunchStatus: Codable, Sendable {
    public struct Node: Codable, Sendable {
        public var node: String
        public var copy: Int
        /// The copy's name (`camera`, `camera-2`).
        public var label: String
        public var pid: Int32?
        public var state: String
        public var restarts: Int
        /// Seconds since the process started, while it runs.
        public var uptime: Double?
        public var lastExit: String?
        public var failure: String?
    }

    public var file: String
    public var pid: Int32
    public var domainID: String?
    public var logDirectory: String?
    public var phase: String
    public var nodes: [Node]
}
