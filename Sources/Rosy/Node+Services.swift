import OrderedCollections
import NIOCore
import RosyDiscovery
import RosyWire

extension Node {
    /// Provides `service`: `handler` answers each call; what it throws goes back to the
    /// caller as an error response with the error's text.
    ///
    /// A handler that does not await (a closure without `await`) answers as the request is
    /// read, on the event loop of the caller's connection, with no task per call; the
    /// answers to the requests of one read leave in one write. Keep it short: the node reads
    /// nothing else from that connection meanwhile (as a Python handler holds its asyncio
    /// loop until it awaits). A handler that awaits runs in a task instead.
    ///
    /// ```swift
    /// try await node.addService("multiply") { request in
    ///     .int((request.args[0].intValue ?? 0) * (request.args[1].intValue ?? 0))
    /// }
    /// ```
    public func addService(_ service: String, _ handler: @escaping ImmediateServiceHandler) async throws {
        try FrameEncoder.validateName(service)
        if dispatcher.setService(service, .immediate(handler)) {
            await publish()
        }
    }

    /// Provides `service` with a handler that may await: calls that wait (for another
    /// service, a timer, a file) overlap. Each call starts as it is read, on the event loop
    /// of the caller's connection, and goes on in a task of its own once its handler
    /// suspends; calls whose handler returns without suspending share a task.
    ///
    /// ```swift
    /// try await node.addService("slow_add") { request in
    ///     try await Task.sleep(for: .milliseconds(100))
    ///     return .int((request.args[0].intValue ?? 0) + (request.args[1].intValue ?? 0))
    /// }
    /// ```
    public func addService(_ service: String, _ handler: @escaping ServiceHandler) async throws {
        try FrameEncoder.validateName(service)
        if dispatcher.setService(service, .concurrent(handler)) {
            await publish()
        }
    }

    /// Stops providing `service`.
    public func removeService(_ service: String) async {
        if dispatcher.removeService(service) {
            await publish()
        } else {
            logger.warning("Attempted to remove non-existing service=\(service)")
        }
    }

    /// Calls `service` on one provider (chosen by the service load balancer) and returns its result.
    ///
    /// ```swift
    /// let result = try await node.call("multiply", 2, 2, timeout: .seconds(5))
    /// ```
    ///
    /// Throws ``ServiceCallError`` (no provider, remote error with the provider's text,
    /// connection lost, timeout) or, before sending, ``FrameError``/``CodecError``.
    nonisolated(nonsending) public func call(_ service: String, _ args: Value..., kwargs: Kwargs = [:], timeout: Duration? = nil) async throws -> Value {
        try await call(service, args: args, kwargs: kwargs, timeout: timeout)
    }

    /// Calls `service` with the arguments as an array.
    nonisolated(nonsending) public func call(_ service: String, args: [Value], kwargs: Kwargs = [:], timeout: Duration? = nil) async throws -> Value {
        try FrameEncoder.validate(name: service, args: args, kwargs: kwargs)
        // From the node's loop, the route of the last call serves again while it holds.
        let version = topology.version
        let onHomeLoop = homeLoop.inEventLoop
        let providers = onHomeLoop
            ? callRoute.value.providers(of: service, version: version) { topology.providers(of: service) }
            : topology.providers(of: service)
        guard let provider = options.serviceLoadBalancer.chooseNodeIndex(providers, service: service) else {
            throw ServiceCallError(.noProvider, service: service, message: "no node provides service '\(service)'")
        }
        let codec = self.codec
        let outcome: ServiceResponseFrame.Outcome
        do {
            let connection: ClientConnection
            if onHomeLoop, let kept = callRoute.value.connection(at: provider) {
                connection = kept
            } else {
                connection = try await link(toNodeAt: provider, of: providers).connection()
                if homeLoop.inEventLoop {
                    callRoute.value.remember(connection, at: provider, of: service, version: version)
                }
            }
            let size = estimatedFrameSize(name: service, args: args, kwargs: kwargs)
            outcome = try await connection.call(timeout: timeout?.timeAmount, estimatedSize: size) { id, buffer in
                try FrameEncoder.writeServiceRequest(id: id, service: service, args: args, kwargs: kwargs, codec: codec, into: &buffer)
            }
        } catch CallFailure.unencodable(let error) {
            throw error
        } catch CallFailure.timeout {
            throw ServiceCallError(.timeout, service: service, message: "no response within \(timeout.map { "\($0)" } ?? "the timeout")")
        } catch CallFailure.connectionLost(let reason) {
            throw ServiceCallError(.connectionLost, service: service, message: reason)
        } catch CallFailure.tooManyCalls {
            throw ServiceCallError(.connectionLost, service: service, message: "65,536 calls already wait on this connection")
        } catch {
            throw ServiceCallError(.connectionLost, service: service, message: "\(error)")
        }
        switch outcome {
        case .success(var data):
            do {
                return try codec.decode(&data)
            } catch {
                throw ServiceCallError(.undecodableResponse, service: service, message: "\(error)")
            }
        case .failure(let text):
            throw ServiceCallError(.remoteError, service: service, message: text)
        }
    }

    /// Whether any node (this one included) provides `service` now.
    public func hasProviders(_ service: String) -> Bool {
        !topology.providers(of: service).isEmpty
    }

    /// Waits until some node provides `service`; returns `false` if `timeout` passed first.
    @discardableResult
    public func waitForProvider(_ service: String, timeout: Duration? = nil) async -> Bool {
        await waitUntil(timeout: timeout) { self.hasProviders(service) }
    }

    /// A handle for calling one service again and again.
    public func service(_ name: String) -> ServiceHandle {
        ServiceHandle(node: self, name: name)
    }
}

/// One service, for repeated calls.
///
/// ```swift
/// let multiply = node.service("multiply")
/// let four = try await multiply(2, 2)
/// ```
public struct ServiceHandle: Sendable {
    public let node: Node
    public let name: String

    nonisolated(nonsending) public func call(_ args: Value..., kwargs: Kwargs = [:], timeout: Duration? = nil) async throws -> Value {
        try await node.call(name, args: args, kwargs: kwargs, timeout: timeout)
    }

    nonisolated(nonsending) public func callAsFunction(_ args: Value..., kwargs: Kwargs = [:], timeout: Duration? = nil) async throws -> Value {
        try await node.call(name, args: args, kwargs: kwargs, timeout: timeout)
    }

    public var hasProviders: Bool { node.hasProviders(name) }

    @discardableResult
    public func waitForProvider(timeout: Duration? = nil) async -> Bool {
        await node.waitForProvider(name, timeout: timeout)
    }
}
