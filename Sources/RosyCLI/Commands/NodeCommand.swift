import ArgumentParser

/// `rosy node ...`
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Node commands: list the nodes of the mesh.",
        subcommands: [List.self]
    )
}

extension NodeCommand {
    /// `rosy node list [-v] [--discovery-time S]`
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every node of the mesh with its topics and services.",
            discussion: "Example: rosy node list -v --discovery-time 2"
        )

        @OptionGroup var common: CommonOptions
        @OptionGroup var discovery: DiscoveryTimeOption

        @Flag(name: .shortAndLong, help: "Also print each node's UUID and connection methods.")
        var verbose = false

        func run() async throws {
            common.startLogging()
            let nodes = try await MeshSnapshot.discover(common: common, seconds: discovery.discoveryTime)
            say(NodeListing.text(for: nodes, verbose: verbose), terminator: "")
        }
    }
}
