import Foundation
import Logging

/// Which discovery a node uses: `ROSY_DISCOVERY=local|avahi` forces one; by default both
/// run together (``CombinedDiscovery``), so same-host peers are found with no daemon and
/// peers across the LAN through Avahi.
public enum DiscoveryChoice: String, Sendable, CaseIterable {
    case local, avahi, both

    /// The choice named by `ROSY_DISCOVERY`, else `.both`. An unknown name is logged and ignored.
    public static func fromEnvironment(logger: Logger? = nil) -> DiscoveryChoice {
        guard let name = ProcessInfo.processInfo.environment["ROSY_DISCOVERY"]?.lowercased(), !name.isEmpty else {
            return .both
        }
        if let choice = DiscoveryChoice(rawValue: name) { return choice }
        logger?.warning("ROSY_DISCOVERY=\(name) is not one of local, avahi, both: using both")
        return .both
    }
}

/// The discovery a node of `domainID` uses, as ``DiscoveryChoice/fromEnvironment(logger:)`` picks it.
///
/// ```swift
/// let discovery = makeDefaultDiscovery(domainID: "default")
/// try await discovery.register(spec)
/// ```
public func makeDefaultDiscovery(
    domainID: String, choice: DiscoveryChoice? = nil,
    logger: Logger = Logger(label: "rosy.discovery")
) -> any Discovery {
    let choice = choice ?? DiscoveryChoice.fromEnvironment(logger: logger)
    switch choice {
    case .local, .avahi, .both:
        logger.info("discovery: local registry only (Avahi backend not built yet)")
        return LocalDiscovery(domainID: domainID, logger: logger)
    }
}
