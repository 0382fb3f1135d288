import Foundation
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Reads a domain's rosy nodes straight off mDNS: a UDP socket on port 5353 (shared with
/// avahi-daemon through SO_REUSEADDR/SO_REUSEPORT) joined to 224.0.0.251 on every
/// multicast interface, sending PTR queries for the service type and parsing the answers.
///
/// Needed because avahi-daemon drops the TXT records Python rosy nodes publish; it sees
/// Swift nodes too, so one path shows every node. Liveness: a goodbye (TTL 0) removes a
/// node at once; queries go out every ``queryInterval`` and a node not confirmed within
/// ``staleAfter`` is dropped (rosy itself drops after about one 30 s TTL).
///
/// The ``quickQueries`` at start, and the questions for missing TXT records, also go
/// out from a second socket on a port of its own: a responder answers such a "one-shot"
/// query (RFC 6762 section 5.1) straight back to that port, at once, besides its usual
/// multicast. Its multicast answer may wait a second or more: a record multicast within the
/// last second is held back (RFC 6762 section 14), and where many nodes browse, Python's
/// zeroconf holds most answers so. A reader that listens for two seconds (`rosy node list`)
/// would miss such a node.
final class MDNSBrowser: Sendable {
    static let queryInterval: TimeInterval = 10
    static let staleAfter: TimeInterval = 35
    static let largestDatagram = 65_535
    /// The first queries, a second apart and more, before the steady ``queryInterval``;
    /// they also go out as one-shot queries (answered directly).
    static let quickQueries = 3

    private let serviceName: String     // "_rosy-<hash>._tcp.local"
    private let ownUUID: Locked<UUID?>
    private let onEvent: @Sendable (MeshEvent) -> Void
    private let logger: Logger
    private let socketFD: Int32
    /// The one-shot queries' socket (an ephemeral port): answers to them come back here.
    private let directFD: Int32
    private let wakeWrite: Int32
    private let wakeRead: Int32
    private let done = DispatchSemaphore(value: 0)
    private let stopped = Mutex(false)

    init(domainID: String, ownUUID: UUID?, logger: Logger, onEvent: @escaping @Sendable (MeshEvent) -> Void) throws {
        serviceName = DomainHash.serviceType(for: domainID) + ".local"
        self.ownUUID = Locked(ownUUID)
        self.onEvent = onEvent
        self.logger = logger
        socketFD = try Self.openSocket()
        do {
            directFD = try Self.openDirectSocket()
        } catch {
            close(socketFD)
            throw error
        }
        var pipeFDs: [Int32] = [0, 0]
        guard pipe(&pipeFDs) == 0 else {
            close(socketFD)
            close(directFD)
            throw RegistryError("pipe failed: \(errnoText())")
        }
        wakeRead = pipeFDs[0]
        wakeWrite = pipeFDs[1]
        for fd in pipeFDs { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let thread = Thread { [self] in
            self.run()
            self.done.signal()
        }
        thread.name = "rosy-mdns"
        thread.start()
    }

    func setOwnUUID(_ uuid: UUID?) { ownUUID.withLock { $0 = uuid } }

    func stop() {
        let first = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
        done.wait()
        close(socketFD)
        close(directFD)
        close(wakeRead)
        close(wakeWrite)
    }

    // MARK: The socket

    private static func openSocket() throws -> Int32 {
        let fd = try openUDPSocket(port: 5353, sharingThePort: true, purpose: "mDNS")
        guard joinGroup(fd) > 0 else {
            close(fd)
            throw RegistryError("no multicast interface could join 224.0.0.251")
        }
        return fd
    }

    /// A UDP socket on a port the kernel picks, for one-shot queries: responders answer
    /// those by unicast to this port (never by port 5353, where avahi-daemon may get them).
    private static func openDirectSocket() throws -> Int32 {
        try openUDPSocket(port: 0, sharingThePort: false, purpose: "the mDNS one-shot socket")
    }

    /// A UDP socket bound to `port` on every address (0: one the kernel picks), sending
    /// multicast with TTL 255 and looped back to this host; `sharingThePort`: with
    /// SO_REUSEADDR/SO_REUSEPORT, as avahi-daemon shares 5353.
    private static func openUDPSocket(port: UInt16, sharingThePort: Bool, purpose: String) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw RegistryError("\(purpose) socket: \(errnoText())") }
        if sharingThePort {
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        var ttl: UInt8 = 255
        var loop: UInt8 = 1
        setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_TTL, &ttl, 1)
        setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_LOOP, &loop, 1)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(port).bigEndian
        address.sin_addr = in_addr(s_addr: INADDR_ANY)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let text = errnoText()
            close(fd)
            throw RegistryError(port == 0 ? "cannot bind \(purpose): \(text)" : "cannot bind UDP \(port) for \(purpose): \(text)")
        }
        return fd
    }

    /// Joins 224.0.0.251 on every multicast interface; returns on how many it is a member
    /// (an interface already joined counts). Called again with every query, so that
    /// interfaces that come up later are joined too.
    @discardableResult
    private static func joinGroup(_ fd: Int32) -> Int {
        var joined = 0
        for interface in multicastInterfaces() {
            var request = ip_mreq(imr_multiaddr: in_addr(s_addr: inet_addr("224.0.0.251")), imr_interface: interface)
            if setsockopt(fd, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, &request, socklen_t(MemoryLayout<ip_mreq>.size)) == 0
                || errno == EADDRINUSE {
                joined += 1
            }
        }
        return joined
    }

    /// The IPv4 addresses of the interfaces mDNS runs on: multicast-capable ones; loopback
    /// only when it is the sole one (as in a test namespace).
    private static func multicastInterfaces() -> [in_addr] {
        let all = HostInfo.interfaceAddresses().filter { $0.family == 2 && $0.supportsMulticast }
        let external = all.filter { !$0.isLoopback }
        return (external.isEmpty ? all : external).compactMap(\.ipv4)
    }

    /// Sends `packet` to 224.0.0.251:5353 on every multicast interface; `direct`: from the
    /// one-shot socket too, so that responders also answer straight back.
    private func sendQuery(_ packet: [UInt8], direct: Bool = false) {
        send(packet, from: socketFD)
        guard direct else { return }
        // Another id, so that the bytes differ: Python's zeroconf drops a query it has just
        // seen byte for byte (the multicast one, a moment ago) as a duplicate.
        var oneShot = packet
        let id = UInt16.random(in: 1...UInt16.max)
        oneShot[0] = UInt8(id >> 8)
        oneShot[1] = UInt8(id & 0xFF)
        send(oneShot, from: directFD)
    }

    private func send(_ packet: [UInt8], from fd: Int32) {
        var destination = sockaddr_in()
        destination.sin_family = sa_family_t(AF_INET)
        destination.sin_port = in_port_t(5353).bigEndian
        destination.sin_addr = in_addr(s_addr: inet_addr("224.0.0.251"))
        for var interface in Self.multicastInterfaces() {
            setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_IF, &interface, socklen_t(MemoryLayout<in_addr>.size))
            _ = packet.withUnsafeBytes { bytes in
                withUnsafePointer(to: &destination) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
        }
    }

    // MARK: The loop

    private struct Instance {
        var lastSeen: Date
        var txt = TXTFreshness()
        var spec: MeshNodeSpec?
        /// When its TXT record was last asked for, while none has come; at first, when the
        /// instance was first seen (its TXT is often in the same or the next packet).
        var txtAsked: Date

        init(lastSeen: Date) {
            self.lastSeen = lastSeen
            self.txtAsked = lastSeen.addingTimeInterval(0.2 - MDNSBrowser.resolveInterval)
        }
    }

    /// How often the TXT record of an instance seen without one is asked for.
    static let resolveInterval: TimeInterval = 0.5

    private func run() {
        var instances: [String: Instance] = [:]
        var warnedBlobs: Set<[UInt8]> = []
        var lastMalformedWarning = Date.distantPast
        var lastTruncatedWarning = Date.distantPast
        // The largest UDP payload: an mDNS response on loopback (MTU 65536) may be far above
        // the 9000 bytes RFC 6762 allows on other links; a cut one would lose its last records.
        var buffer = [UInt8](repeating: 0, count: Self.largestDatagram)
        let started = Date()
        var nextQuery = started
        var queriesSent = 0
        var directAnswers = 0
        var fds = [pollfd(fd: socketFD, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: directFD, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
        let question = DNSMessage.query(ptr: serviceName)
        defer {
            // What a short-lived reader (`rosy node list`) leaves out, and why: an instance
            // whose TXT never came cannot be named.
            let unnamed = instances.filter { $0.value.spec == nil }.keys.sorted()
            logger.debug("mDNS: \(instances.count) instances seen in \(String(format: "%.1f", Date().timeIntervalSince(started))) s, \(queriesSent) queries, \(directAnswers) direct answers, \(unnamed.count) without a readable TXT\(unnamed.isEmpty ? "" : ": " + unnamed.joined(separator: ", "))")
        }

        while true {
            let now = Date()
            if now >= nextQuery {
                Self.joinGroup(socketFD)
                sendQuery(question, direct: queriesSent < Self.quickQueries)
                queriesSent += 1
                // A few quick queries at start, then a steady pace.
                nextQuery = now.addingTimeInterval(queriesSent < Self.quickQueries ? Double(queriesSent) : Self.queryInterval)
            }
            for (name, instance) in instances where now.timeIntervalSince(instance.lastSeen) > Self.staleAfter {
                logger.debug("mDNS: \(name) not confirmed for \(Int(Self.staleAfter)) s, dropping it")
                remove(name, from: &instances)
            }
            askForMissingTXT(&instances)
            for index in fds.indices { fds[index].revents = 0 }
            let ready = poll(&fds, nfds_t(fds.count), 500)
            if ready < 0 && errno != EINTR { return }
            if fds[2].revents != 0 { return }
            for (index, fd) in [socketFD, directFD].enumerated() where fds[index].revents != 0 {
                while true {
                    // MSG_TRUNC: the datagram's real length, also when it did not fit.
                    let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT) | Int32(MSG_TRUNC))
                    guard count > 0 else { break }
                    guard count <= buffer.count else {
                        if Date().timeIntervalSince(lastTruncatedWarning) > 60 {
                            logger.warning("ignoring an mDNS packet of \(count) bytes, more than the \(buffer.count) read")
                            lastTruncatedWarning = Date()
                        }
                        continue
                    }
                    let message: DNSMessage
                    do {
                        message = try DNSMessage(parsing: Array(buffer[0..<count]))
                    } catch {
                        if Date().timeIntervalSince(lastMalformedWarning) > 60 {
                            logger.warning("ignoring a malformed mDNS packet: \(error)")
                            lastMalformedWarning = Date()
                        }
                        continue
                    }
                    guard message.isResponse else { continue }
                    if fd == directFD { directAnswers += 1 }
                    if handle(message, instances: &instances, warnedBlobs: &warnedBlobs) {
                        // A record changed: announcements can arrive out of order, so ask
                        // again shortly for the current one.
                        nextQuery = min(nextQuery, Date().addingTimeInterval(1.5))
                    }
                }
            }
        }
    }

    /// Asks for the TXT records of instances seen (in a PTR answer) without one, as a
    /// resolver does: a responder may leave a record out of its additional section (one it
    /// multicast within the last second, RFC 6762 section 6), and only the TXT names the node.
    private func askForMissingTXT(_ instances: inout [String: Instance]) {
        let now = Date()
        var names: [String] = []
        for (name, instance) in instances where instance.txt.current == nil
            && now.timeIntervalSince(instance.txtAsked) >= Self.resolveInterval {
            names.append(name)
            instances[name]?.txtAsked = now
            if names.count == 32 { break }
        }
        guard !names.isEmpty else { return }
        logger.trace("mDNS: asking for the TXT of \(names.joined(separator: ", "))")
        sendQuery(DNSMessage.query(names.map { ($0, DNSMessage.typeTXT) }), direct: true)
    }

    private func remove(_ name: String, from instances: inout [String: Instance]) {
        if let instance = instances.removeValue(forKey: name), let spec = instance.spec {
            onEvent(.removed(spec.id))
        }
    }

    /// Applies a response's records; returns whether a node's TXT changed.
    private func handle(_ message: DNSMessage, instances: inout [String: Instance],
                        warnedBlobs: inout Set<[UInt8]>) -> Bool {
        var changed = false
        let suffix = "." + serviceName.lowercased()
        let own = ownUUID.withLock { $0 }
        let now = Date()
        for record in message.records {
            let name = record.name.lowercased()
            let instanceName: String
            if case .ptr(let target) = record.data, name == serviceName.lowercased() {
                instanceName = target.lowercased()
            } else if name.hasSuffix(suffix) {
                instanceName = name
            } else {
                continue
            }
            guard instanceName.hasSuffix(suffix) else { continue }
            if let own, instanceName.hasPrefix(own.uuidString.lowercased() + ".") { continue }
            if record.ttl == 0 {
                // A goodbye.
                switch record.data {
                case .ptr, .srv, .txt: remove(instanceName, from: &instances)
                default: break
                }
                continue
            }
            switch record.data {
            case .ptr, .srv:
                instances[instanceName, default: Instance(lastSeen: now)].lastSeen = now
            case .txt(let blob):
                var instance = instances[instanceName] ?? Instance(lastSeen: now)
                instance.lastSeen = now
                switch instance.txt.see(blob, at: now) {
                case .same:
                    break
                case .suspect:
                    // A late answer with a record the node has replaced, perhaps: ask again.
                    changed = true
                case .changed:
                    changed = true
                    do {
                        let spec = try MDNSPacketReading.spec(inTXT: blob)
                        if instance.spec != spec {
                            instance.spec = spec
                            onEvent(.upserted(spec))
                        }
                    } catch {
                        if warnedBlobs.insert(blob).inserted {
                            logger.warning("ignoring \(instanceName): \(error)")
                        }
                    }
                }
                instances[instanceName] = instance
            default:
                continue
            }
        }
        return changed
    }
}
