/// A failure the `rosy` command reports as one line on stderr, with a non-zero exit status.
public struct CLIError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
