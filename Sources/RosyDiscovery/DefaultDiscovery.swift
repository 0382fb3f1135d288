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
    case .local:
        logger.info("discovery: local registry only (ROSY_DISCOVERY=local): peers on this host")
        return LocalDiscovery(domainID: domainID, logger: logger)
    case .avahi:
        logger.info("discovery: Avahi only (ROSY_DISCOVERY=avahi): peers over mDNS")
        return AvahiDiscovery(domainID: domainID, logger: logger)
    case .both:
        logger.info("discovery: local registry (this host) + Avahi (LAN, once avahi-daemon is reachable)")
        return CombinedDiscovery([
            .init(LocalDiscovery(domainID: domainID, logger: logger), authoritativeForRemovals: true),
            .init(AvahiDiscovery(domainID: domainID, logger: logger)),
        ], logger: logger)
    }
}
