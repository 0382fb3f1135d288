/// The node arguments a program gets on its command line, as `rosy launch` passes them:
/// `--name <node name>` and `--domain-id <domain>` (also as `--name=...`).
///
/// ```swift
/// let arguments = NodeArguments(defaultName: "planner")
/// try await Node.withNode(name: arguments.name, domainID: arguments.domainID) { node in ... }
/// ```
public struct NodeArguments: Sendable, Hashable {
    /// `--name`, else the default name.
    public var name: String
    /// `--domain-id`, else `nil` (then the node reads `ROSY_DOMAIN_ID`, else uses `default`).
    public var domainID: String?

    /// Reads `arguments` (the program's own by default); other arguments are ignored.
    public init(_ arguments: [String] = CommandLine.arguments, defaultName: String) {
        name = Self.value(of: "--name", in: arguments) ?? defaultName
        domainID = Self.value(of: "--domain-id", in: arguments)
    }

    private static func value(of option: String, in arguments: [String]) -> String? {
        var found: String?
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            if argument == option, index + 1 < arguments.endIndex {
                found = arguments[index + 1]
                index += 1
            } else if argument.hasPrefix(option + "=") {
                found = String(argument.dropFirst(option.count + 1))
            }
            index += 1
        }
        return found
    }
}
