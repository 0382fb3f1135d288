import Foundation
import Logging

/// Discovery across a LAN over mDNS, compatible with Python rosy 0.8.3.
///
/// Publishes through avahi-daemon (``AvahiPublisher``) and reads the domain's nodes with
/// an mDNS listener of its own (``MDNSBrowser``), because Avahi drops Python nodes' TXT
/// records. The listener starts once avahi-daemon is reachable, so a host without the
/// daemon sends no multicast at all. If the daemon goes away the node keeps going, and
/// publishes again when it returns.
///
/// ```swift
/// let discovery = AvahiDiscovery(domainID: "default")
/// try await discovery.register(spec)   // Python's `rosy node list` now shows it
/// ```
public final class AvahiDiscovery: Discovery {
    public let events: AsyncStream<MeshEvent>
    private let continuation: AsyncStream<MeshEvent>.Continuation
    private let domainID: String
    private let logger: Logger
    private let state = Locked(State())

    private struct State: Sendable {
        var publisher: AvahiPublisher?
        var browser: MDNSBrowser?
        var ownUUID: UUID?
        var stopped = false
        var avahiRunning = false
    }

    public init(domainID: String, logger: Logger = Logger(label: "rosy.discovery.avahi")) {
        self.domainID = domainID
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream(of: MeshEvent.self, bufferingPolicy: .unbounded)
    }

    /// Whether avahi-daemon is reachable now.
    public var isAvahiRunning: Bool { state.withLock { $0.avahiRunning } }

    public func register(_ spec: MeshNodeSpec) async throws {
        state.withLock { $0.ownUUID = spec.id.uuid }
        try startPublisher().publish(spec)
        state.withLock { $0.browser }?.setOwnUUID(spec.id.uuid)
    }

    public func update(_ spec: MeshNodeSpec) async throws {
        try await register(spec)
    }

    public func browse() async throws {
        _ = try startPublisher()
    }

    public func unregister() async {
        let (publisher, browser) = state.withLock { state in
            state.stopped = true
            defer { state.publisher = nil; state.browser = nil }
            return (state.publisher, state.browser)
        }
        publisher?.stop()
        browser?.stop()
        continuation.finish()
    }

    private func startPublisher() throws -> AvahiPublisher {
        if let existing = state.withLock({ $0.publisher }) { return existing }
        guard let publisher = AvahiPublisher(domainID: domainID, logger: logger, onRunning: { [weak self] running in
            self?.avahiChanged(running: running)
        }) else {
            throw RegistryError("cannot start an Avahi event loop")
        }
        let winner = state.withLock { state -> AvahiPublisher? in
            if let existing = state.publisher { return existing }
            state.publisher = publisher
            return nil
        }
        if let winner {
            publisher.stop()
            return winner
        }
        return publisher
    }

    private func avahiChanged(running: Bool) {
        state.withLock { $0.avahiRunning = running }
        if running {
            logger.info("discovery: avahi-daemon is running: publishing and browsing \(DomainHash.serviceType(for: domainID)) over mDNS")
            startBrowser()
        } else {
            logger.info("discovery: avahi-daemon is not reachable: nothing published or read over mDNS until it is")
        }
    }

    private func startBrowser() {
        let (needed, own) = state.withLock { ($0.browser == nil && !$0.stopped, $0.ownUUID) }
        guard needed else { return }
        do {
            let browser = try MDNSBrowser(domainID: domainID, ownUUID: own, logger: logger) { [continuation] event in
                continuation.yield(event)
            }
            let extra = state.withLock { state -> MDNSBrowser? in
                if state.browser == nil && !state.stopped { state.browser = browser; return nil }
                return browser
            }
            extra?.stop()
        } catch {
            logger.warning("discovery: cannot read mDNS (\(error)); Python nodes on the LAN will not be seen")
        }
    }
}
