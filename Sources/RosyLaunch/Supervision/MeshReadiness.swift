import Foundation
import RosyDiscovery

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
    /// Why the mesh cannot be watched, once that is known (nodes waiting on it then fail).
    var problem: String? { get }
    /// Stops watching the mesh.
    func close()
}

extension MeshReadiness {
    public var problem: String? { nil }
}

/// Makes the mesh view for a domain; nil when this build has none (wait_for then fails
/// with a clear message).
public typealias MeshReadinessFactory = @Sendable (_ domainID: String?) throws -> (any MeshReadiness)?

/// No mesh view: a launch using `wait_for` then refuses to start, saying why.
public let noMeshReadiness: MeshReadinessFactory = { _ in nil }

/// The mesh as a node of the domain sees it: the launch file's (or `--domain-id`'s) domain,
/// else `ROSY_DOMAIN_ID` of rosy-launch's environment, else `default` (as nodes choose theirs).
public let defaultMeshReadiness: MeshReadinessFactory = { domainID in
    let domain = domainID ?? ProcessInfo.processInfo.environment["ROSY_DOMAIN_ID"].flatMap { $0.isEmpty ? nil : $0 }
        ?? "default"
    return DiscoveryMeshReadiness(discovery: makeDefaultDiscovery(domainID: domain))
}
