import CAvahi
import Foundation
import Logging
import Synchronization

/// Publishes one rosy node through avahi-daemon (libavahi-client on its own threaded poll):
/// `<uuid>._rosy-<hash>._tcp`, port 0, on this host's `.local` name, with the spec's TXT
/// blob as a list of TXT strings. Follows the daemon: waits while it is absent, publishes
/// when it runs, and publishes again after it restarts.
///
/// Every Avahi call runs on the poll thread or under its lock; `onRunning` tells whether
/// the daemon is reachable now.
final class AvahiPublisher: @unchecked Sendable {
    private let serviceType: String
    private let logger: Logger
    private let onRunning: @Sendable (Bool) -> Void
    private let poll: OpaquePointer
    /// False once ``stop()`` has begun: the poll may be freed, so late timers must not touch it.
    private let alive = Mutex(true)
    // Guarded by the poll's lock.
    private var client: OpaquePointer?
    private var group: OpaquePointer?
    private var spec: MeshNodeSpec?
    private var stopped = false
    /// nil until the first attempt tells.
    private var running: Bool?
    /// The spec changed while the group was still being registered (Avahi takes a TXT
    /// update during probing as a conflict with itself): republish once it is established.
    private var dirty = false
    private var collisions = 0

    init?(domainID: String, logger: Logger, onRunning: @escaping @Sendable (Bool) -> Void) {
        guard let poll = avahi_threaded_poll_new() else { return nil }
        self.poll = poll
        serviceType = DomainHash.serviceType(for: domainID)
        self.logger = logger
        self.onRunning = onRunning
        guard avahi_threaded_poll_start(poll) == 0 else {
            avahi_threaded_poll_free(poll)
            return nil
        }
        locked { connect() }
    }

    /// Publishes `spec` (or republishes its TXT when only that changed).
    func publish(_ spec: MeshNodeSpec) {
        locked {
            let uuidChanged = self.spec?.id.uuid != spec.id.uuid
            self.spec = spec
            if uuidChanged { dropGroup() }
            publishNow()
        }
    }

    /// Withdraws the service (peers get a goodbye), stops following the daemon.
    func stop() {
        alive.withLock { $0 = false }
        locked {
            stopped = true
            spec = nil
            dropGroup()
            if let client { avahi_client_free(client) }
            client = nil
        }
        avahi_threaded_poll_stop(poll)
        avahi_threaded_poll_free(poll)
    }

    private func locked(_ body: () -> Void) {
        avahi_threaded_poll_lock(poll)
        body()
        avahi_threaded_poll_unlock(poll)
    }

    // MARK: On the poll thread (or under its lock)

    private func connect() {
        guard !stopped else { return }
        var error: Int32 = 0
        let created = avahi_client_new(avahi_threaded_poll_get(poll), AVAHI_CLIENT_NO_FAIL, { client, state, userdata in
            guard let userdata else { return }
            Unmanaged<AvahiPublisher>.fromOpaque(userdata).takeUnretainedValue().clientChanged(client, state)
        }, Unmanaged.passUnretained(self).toOpaque(), &error)
        if let created {
            client = created
        } else {
            setRunning(false)
            // No system bus at all: try again later, from outside the poll thread.
            logger.debug("Avahi client: \(String(cString: avahi_strerror(error))); retrying in 5 s")
            DispatchQueue.global().asyncAfter(deadline: .now() + 5) { [weak self] in
                guard let self else { return }
                self.alive.withLock { alive in
                    guard alive else { return }
                    self.locked { if self.client == nil { self.connect() } }
                }
            }
        }
    }

    private func clientChanged(_ changed: OpaquePointer?, _ state: AvahiClientState) {
        if let changed { client = changed }
        switch state {
        case AVAHI_CLIENT_S_RUNNING:
            setRunning(true)
            publishNow()
        case AVAHI_CLIENT_S_COLLISION, AVAHI_CLIENT_S_REGISTERING:
            // The host name is changing: the service is re-added once it runs again.
            if let group { avahi_entry_group_reset(group) }
        case AVAHI_CLIENT_FAILURE:
            setRunning(false)
            let error = changed.map { avahi_client_errno($0) } ?? 0
            logger.debug("Avahi client failed: \(String(cString: avahi_strerror(error)))")
            // The daemon went away: start over and wait for it to come back.
            group = nil
            if let changed { avahi_client_free(changed) }
            client = nil
            connect()
        case AVAHI_CLIENT_CONNECTING:
            setRunning(false)
        default:
            break
        }
    }

    private func groupChanged(_ changed: OpaquePointer?, _ state: AvahiEntryGroupState) {
        switch state {
        case AVAHI_ENTRY_GROUP_ESTABLISHED:
            collisions = 0
            if dirty { publishNow() }
        case AVAHI_ENTRY_GROUP_COLLISION where collisions < 3:
            // Names are uuids, so a collision is a leftover of our own: publish afresh.
            collisions += 1
            logger.debug("Avahi reports a name collision; publishing again")
            if let changed { avahi_entry_group_reset(changed) }
            publishNow()
        case AVAHI_ENTRY_GROUP_COLLISION, AVAHI_ENTRY_GROUP_FAILURE:
            logger.warning("Avahi could not publish this node (entry group state \(state.rawValue))")
        default:
            break
        }
    }

    private func setRunning(_ now: Bool) {
        guard now != running else { return }
        running = now
        onRunning(now)
    }

    private func dropGroup() {
        if let group { avahi_entry_group_free(group) }
        group = nil
    }

    private func publishNow() {
        guard !stopped, let spec, let client, avahi_client_get_state(client) == AVAHI_CLIENT_S_RUNNING else { return }
        let name = spec.id.uuid.uuidString.lowercased()
        let strings = TXTBlob.encode(SpecPickle.pickle(spec))
        // avahi_string_list_add_* prepends, and Avahi writes the list to the wire from its
        // tail (checked with a Python zeroconf reader): add the pieces in order.
        var list: UnsafeMutablePointer<AvahiStringList>?
        for piece in strings {
            list = piece.withUnsafeBufferPointer { avahi_string_list_add_arbitrary(list, $0.baseAddress, $0.count) }
        }
        defer { avahi_string_list_free(list) }
        let status: Int32
        if let group, avahi_entry_group_is_empty(group) == 0,
           avahi_entry_group_get_state(group) != Int32(AVAHI_ENTRY_GROUP_ESTABLISHED.rawValue) {
            dirty = true
            return
        }
        dirty = false
        if let group, avahi_entry_group_is_empty(group) == 0 {
            status = avahi_entry_group_update_service_txt_strlst(
                group, AvahiIfIndex(AVAHI_IF_UNSPEC), AvahiProtocol(AVAHI_PROTO_UNSPEC), AvahiPublishFlags(0), name, serviceType, nil, list)
        } else {
            if group == nil {
                group = avahi_entry_group_new(client, { group, state, userdata in
                    guard let userdata else { return }
                    Unmanaged<AvahiPublisher>.fromOpaque(userdata).takeUnretainedValue().groupChanged(group, state)
                }, Unmanaged.passUnretained(self).toOpaque())
            }
            guard let group else {
                logger.warning("Avahi: cannot create an entry group: \(String(cString: avahi_strerror(avahi_client_errno(client))))")
                return
            }
            let added = avahi_entry_group_add_service_strlst(
                group, AvahiIfIndex(AVAHI_IF_UNSPEC), AvahiProtocol(AVAHI_PROTO_UNSPEC), AvahiPublishFlags(0), name, serviceType, nil, nil, 0, list)
            status = added == 0 ? avahi_entry_group_commit(group) : added
        }
        if status != 0 {
            logger.warning("Avahi: cannot publish \(name).\(serviceType): \(String(cString: avahi_strerror(status)))")
        }
    }
}
