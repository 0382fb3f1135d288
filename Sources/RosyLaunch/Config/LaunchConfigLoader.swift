import Foundation
import Yams

/// Reads launch files into a `LaunchConfig`: rosy 0.8.3's keys plus rosy-launch's own.
///
/// ```swift
/// do {
///     let launch = try LaunchConfigLoader().load(path: "robot.yaml")
/// } catch let error as LaunchConfigError {
///     print(error)   // robot.yaml:7:5: unknown key 'comand' ... (did you mean 'command'?)
/// }
/// ```
public struct LaunchConfigLoader: Sendable {
    static let topLevelKeys = ["domain_id", "nodes", "env", "log_dir", "log_max_size", "log_keep",
                               "log_timestamps", "include"]
    static let nodeKeys = ["command", "shell", "args", "number", "pre_delay", "post_delay", "disabled",
                           "on_host", "restart", "backoff", "max_restarts", "required", "env", "cwd",
                           "stop_signal", "stop_timeout", "pass_name", "ready_after", "after", "wait_for", "wait_timeout"]
    static let backoffKeys = ["initial", "factor", "max", "reset_after"]
    static let waitForKeys = ["node", "topic", "service"]

    public init() {}

    /// Loads a launch file and the files it includes.
    public func load(path: String) throws -> LaunchConfig {
        var config = LaunchConfig(path: path)
        var seen: [String: SourceLocation] = [:]
        try load(path: path, into: &config, isTop: true, including: [], seen: &seen)
        try checkReferences(config)
        return config
    }

    /// Parses launch-file text (for tests and `--check` of piped text).
    public func parse(_ text: String, file: String) throws -> LaunchConfig {
        var config = LaunchConfig(path: file)
        var seen: [String: SourceLocation] = [:]
        try parse(text, file: file, into: &config, isTop: true, including: [file], seen: &seen)
        try checkReferences(config)
        return config
    }

    private func load(path: String, into config: inout LaunchConfig, isTop: Bool, including: [String],
                      seen: inout [String: SourceLocation]) throws {
        let resolved = URL(fileURLWithPath: path).standardizedFileURL.path
        if including.contains(resolved) {
            throw LaunchConfigError("include cycle: \((including + [resolved]).joined(separator: " -> "))", file: path)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LaunchConfigError("cannot read the file", file: path)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw LaunchConfigError("the file is not UTF-8 text", file: path)
        }
        try parse(text, file: path, into: &config, isTop: isTop, including: including + [resolved], seen: &seen)
    }

    private func parse(_ text: String, file: String, into config: inout LaunchConfig, isTop: Bool,
                       including: [String], seen: inout [String: SourceLocation]) throws {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw Self.translate(error, file: file)
        }
        guard let root else { throw LaunchConfigError("the file is empty: it needs a 'nodes:' mapping", file: file) }
        let reader = NodeReader(file: file)
        let pairs = try reader.mapping(root, what: "the launch file")
        try reader.checkKeys(pairs, known: Self.topLevelKeys, what: "at the top level")

        // Included files first: their nodes start before this file's.
        if let include = reader.value("include", in: pairs) {
            let folder = URL(fileURLWithPath: file).deletingLastPathComponent()
            for item in try reader.stringList(include, key: "include") {
                let path = item.hasPrefix("/") ? item : folder.appendingPathComponent(item).path
                do {
                    try load(path: path, into: &config, isTop: false, including: including, seen: &seen)
                } catch var error as LaunchConfigError where error.location?.line == 0 && error.location?.file == path {
                    error.message = "\(error.message) (included at \(reader.location(include)))"
                    throw error
                }
            }
        }
        if let value = reader.value("domain_id", in: pairs), !reader.isNull(value) {
            config.domainID = try reader.string(value, key: "domain_id")
        }
        if let value = reader.value("env", in: pairs) {
            config.environment += try reader.environment(value)
        }
        if let value = reader.value("log_dir", in: pairs) {
            config.logDirectory = try reader.string(value, key: "log_dir")
        }
        if let value = reader.value("log_max_size", in: pairs) {
            config.logMaxSize = try reader.byteSize(value, key: "log_max_size")
        }
        if let value = reader.value("log_keep", in: pairs) {
            config.logKeep = try reader.int(value, key: "log_keep", minimum: 0)
        }
        if let value = reader.value("log_timestamps", in: pairs) {
            config.logTimestamps = try reader.bool(value, key: "log_timestamps")
        }
        guard let nodesNode = reader.value("nodes", in: pairs) else {
            if isTop && config.nodes.isEmpty && reader.value("include", in: pairs) == nil {
                throw LaunchConfigError("missing 'nodes:' (a mapping of node names to their settings)",
                                        at: reader.location(root))
            }
            return
        }
        if reader.isNull(nodesNode) { return }
        for (keyNode, valueNode) in try reader.mapping(nodesNode, what: "'nodes'") {
            let name = try reader.string(keyNode, key: "node name")
            guard !name.isEmpty, !name.contains(where: { $0.isWhitespace || $0 == "/" }) else {
                throw LaunchConfigError("node name '\(name)' must be non-empty without spaces or '/'",
                                        at: reader.location(keyNode))
            }
            if let earlier = seen[name] {
                throw LaunchConfigError("node '\(name)' is defined twice (first at \(earlier))",
                                        at: reader.location(keyNode))
            }
            let node = try reader.node(name: name, valueNode, at: reader.location(keyNode))
            seen[name] = node.location
            config.nodes.append(node)
        }
    }

    /// `after:` must name nodes that start earlier.
    private func checkReferences(_ config: LaunchConfig) throws {
        var earlier = Set<String>()
        let all = Set(config.nodes.map(\.name))
        for node in config.nodes {
            for name in node.after where !earlier.contains(name) {
                if all.contains(name) {
                    throw LaunchConfigError("node '\(node.name)' waits for '\(name)', which starts later: "
                        + "move '\(name)' above it", at: node.location)
                }
                let hint = Suggestion.nearest(to: name, in: Array(all)).map { " (did you mean '\($0)'?)" } ?? ""
                throw LaunchConfigError("node '\(node.name)' waits for unknown node '\(name)'\(hint)",
                                        at: node.location)
            }
            earlier.insert(node.name)
        }
    }

    static func translate(_ error: YamlError, file: String) -> LaunchConfigError {
        switch error {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let text = context.map { "\(problem) (\($0.text))" } ?? problem
            return LaunchConfigError("YAML: \(text)", at: SourceLocation(file: file, line: mark.line, column: mark.column))
        case .duplicatedKeysInMapping(let duplicates, let context):
            return LaunchConfigError("duplicate key \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) in a mapping",
                                     at: SourceLocation(file: file, line: context.mark.line, column: context.mark.column))
        case .reader(let problem, _, _, _):
            return LaunchConfigError("YAML: \(problem)", file: file)
        default:
            return LaunchConfigError("YAML: \(error)", file: file)
        }
    }
}
