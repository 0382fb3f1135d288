import OrderedCollections
import RosyWire

extension TopicMessage {
    /// The message's first argument as a `Decodable` type, as ``Node/send(_:encoding:)`` sends it.
    ///
    /// ```swift
    /// try await node.listen("pose") { message in
    ///     let pose = try message.decode(Pose.self)
    /// }
    /// ```
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        guard let first = args.first else {
            throw NodeError("message on topic=\(topic) has no argument to decode as \(T.self)")
        }
        return try first.decode(type)
    }
}

extension ServiceRequest {
    /// The request's first argument as a `Decodable` type.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        guard let first = args.first else {
            throw NodeError("request to service=\(service) has no argument to decode as \(T.self)")
        }
        return try first.decode(type)
    }
}

extension Node {
    /// Sends any `Encodable` as the message's one argument (a dict for a struct).
    ///
    /// ```swift
    /// struct Pose: Codable { var x: Double; var y: Double }
    /// try await node.send("pose", encoding: Pose(x: 1, y: 2))
    /// ```
    public func send(_ topic: String, encoding value: some Encodable, kwargs: Kwargs = [:]) async throws {
        try await send(topic, args: [try Value(encoding: value)], kwargs: kwargs)
    }

    /// Calls `service` with an `Encodable` argument and decodes the result as `Result`.
    ///
    /// ```swift
    /// let plan: Plan = try await node.call("plan", encoding: goal, as: Plan.self)
    /// ```
    public func call<Result: Decodable>(
        _ service: String, encoding value: some Encodable, as type: Result.Type = Result.self, timeout: Duration? = nil
    ) async throws -> Result {
        try await call(service, args: [try Value(encoding: value)], timeout: timeout).decode(type)
    }
}
