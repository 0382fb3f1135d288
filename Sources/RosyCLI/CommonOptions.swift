import ArgumentParser
import Foundation
import Logging

/// The options every node-building command shares: which mesh, which data codec, how chatty.
public struct CommonOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("domain-id"),
            help: "The mesh to join; only nodes with the same domain id see each other. Default: $ROSY_DOMAIN_ID, else 'default'.")
    public var domainID: String?

    @Option(help: "The data codec the node uses: pickle, json or msgpack (all nodes of a mesh must agree).")
    public var codec: CodecName = .pickle

    @Option(name: [.customLong("log-level"), .customLong("log")],
            help: "Log level: trace, debug, info, notice, warning, error or critical.")
    public var logLevel: Logger.Level = .warning

    public init() {}

    /// The domain id: `--domain-id`, else `ROSY_DOMAIN_ID`, else `default` (as rosy).
    public var resolvedDomainID: String { Self.domainID(domainID) }

    /// `given`, else `ROSY_DOMAIN_ID`, else `default`.
    static func domainID(_ given: String?) -> String {
        if let given, !given.isEmpty { return given }
        // getenv, not ProcessInfo: `rosy --domain-id X ...` sets it after start-up.
        if let env = getenv("ROSY_DOMAIN_ID").map({ String(cString: $0) }), !env.isEmpty { return env }
        return "default"
    }

    /// Sends log lines at `--log-level` and above to stderr. Call once, at the start of `run()`.
    public func startLogging() { Self.startLogging(level: logLevel) }

    static func startLogging(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// The data codecs rosy nodes speak.
public enum CodecName: String, ExpressibleByArgument, CaseIterable, Sendable {
    case pickle, json, msgpack
}

extension Logger.Level: @retroactive ExpressibleByArgument {
    public init?(argument: String) {
        switch argument.lowercased() {
        case "warn": self = .warning
        case "fatal": self = .critical
        default: self.init(rawValue: argument.lowercased())
        }
    }
}

/// How long to listen for nodes before answering `list` commands.
struct DiscoveryTimeOption: ParsableArguments {
    @Option(help: "Seconds to listen for nodes before answering.")
    var discoveryTime: Double = 5

    func validate() throws {
        guard discoveryTime >= 0, discoveryTime.isFinite else {
            throw ValidationError("--discovery-time must be a number of seconds, 0 or more")
        }
    }
}
