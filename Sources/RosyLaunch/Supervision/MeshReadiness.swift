/// What rosy-launch asks the mesh before starting a node with `wait_for`.
///
/// The supervisor polls `isSatisfied` from its loop (about four times a second), so an
/// implementation keeps its own view of the mesh up to date in the background and answers
/// from it without blocking.
///
/// ```swift
/// final class MyMesh: MeshReadiness {
///     func isSatisfied(_ condition: MeshCondition) -> Bool { ... }
///     func close() {}
/// }
/// ```
public protocol MeshReadiness: AnyObject {
    /// Whether the mesh shows the node, topic listener or service provider now.
    func isSatisfied(_ condition: MeshCondition) -> Bool
    /// Stops watching the mesh.
    func close()
}

/// Makes the mesh view for a domain; nil when this build has none (wait_for then fails
/// with a clear message).
public typealias MeshReadinessFactory = @Sendable (_ domainID: String?) throws -> (any MeshReadiness)?

/// The default: no mesh view in this build yet (the node library provides one later).
public let noMeshReadiness: MeshReadinessFactory = { _ in nil }
