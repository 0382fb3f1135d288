import RosyWire

/// Why a service call failed. Switch on ``code``; new codes may be added later.
///
/// ```swift
/// do {
///     let result = try await node.call("multiply", 2, 2, timeout: .seconds(5))
/// } catch let error as ServiceCallError where error.code == .remoteError {
///     print("the provider said:", error.message)
/// }
/// ```
public struct ServiceCallError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// No node in the mesh provides the service.
        public static let noProvider = Code("noProvider")
        /// The provider's handler threw; ``ServiceCallError/message`` holds its text.
        public static let remoteError = Code("remoteError")
        /// The connection to the provider broke (or could not be opened) before the response came.
        public static let connectionLost = Code("connectionLost")
        /// No response came within the call's timeout.
        public static let timeout = Code("timeout")
        /// The response's data could not be decoded by this node's codec.
        public static let undecodableResponse = Code("undecodableResponse")

        public var description: String { name }
    }

    public var code: Code
    /// The service that was called.
    public var service: String
    /// Details: for ``Code/remoteError`` the provider's own error text.
    public var message: String

    public init(_ code: Code, service: String, message: String) {
        self.code = code
        self.service = service
        self.message = message
    }

    public var description: String { "call to service '\(service)' failed (\(code)): \(message)" }
}

/// A failure of the node itself: starting its servers, registering, or a bad argument.
public struct NodeError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
