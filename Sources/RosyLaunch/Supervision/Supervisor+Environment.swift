/// The environment of the nodes: the supervisor's own, then the launch file's `env`, then the
/// node's `env` (each `${VAR}` expanded against what came before), then `ROSY_DOMAIN_ID`.
extension Supervisor {
    static func environment(config: LaunchConfig, options: LaunchOptions, plan: LaunchPlan) -> [String: String] {
        var environment = options.environment.filter { !SystemdNotifier.privateVariables.contains($0.key) }
        for entry in config.environment {
            environment[entry.key] = EnvironmentExpansion.expand(entry.value, in: environment)
        }
        if let domainID = plan.domainID { environment["ROSY_DOMAIN_ID"] = domainID }
        // Python nodes (rosy's own demos) buffer stdout in a pipe: ask them not to, so their
        // lines show up when printed. A launch file's env can set it back.
        if environment["PYTHONUNBUFFERED"] == nil { environment["PYTHONUNBUFFERED"] = "1" }
        return environment
    }

    func environment(for copy: NodeCopy) -> [String] {
        var environment = baseEnvironment
        for entry in copy.node.environment {
            environment[entry.key] = EnvironmentExpansion.expand(entry.value, in: environment)
        }
        if let domainID = plan.domainID { environment["ROSY_DOMAIN_ID"] = domainID }
        environment["ROSY_LAUNCH_NODE"] = copy.node.name
        environment["ROSY_LAUNCH_COPY"] = String(copy.index)
        return environment.map { "\($0.key)=\($0.value)" }.sorted()
    }
}
