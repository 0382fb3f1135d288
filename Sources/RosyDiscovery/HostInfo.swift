import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Facts about this machine that a node advertises.
public enum HostInfo {
    /// This machine's host name, as Python's `socket.gethostname()` gives it.
    ///
    /// ```swift
    /// let id = NodeID(name: "planner", hostname: HostInfo.hostname)
    /// ```
    public static var hostname: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let bytes = buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The name mDNS peers resolve this machine by: `<hostname>.local`.
    public static var mdnsHostname: String {
        let name = hostname
        return name.hasSuffix(".local") ? name : name + ".local"
    }
}

/// One address of one network interface of this machine.
public struct InterfaceAddress: Hashable, Sendable {
    /// The interface's name, e.g. `eth0`.
    public var interface: String
    /// The address as text, e.g. `192.168.1.7` or `fe80::1%eth0` (IPv6 link-local with its zone).
    public var address: String
    /// 2 for IPv4, 10 for IPv6, as Python's `AddressFamily`.
    public var family: Int
    public var isLoopback: Bool
    public var supportsMulticast: Bool
    /// The interface's index (for IPv6 zones and multicast membership).
    public var index: UInt32
    /// The raw IPv4 address in network order (nil for IPv6).
    public var ipv4: in_addr?

    public static func == (a: Self, b: Self) -> Bool {
        (a.interface, a.address, a.family) == (b.interface, b.address, b.family)
    }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(interface); hasher.combine(address); hasher.combine(family)
    }
}

extension HostInfo {
    /// This machine's interface addresses (up interfaces only), IPv4 first, from `getifaddrs`.
    /// A node advertises these next to `<hostname>.local`, so that peers without mDNS host
    /// resolution can still reach its TCP server.
    ///
    /// ```swift
    /// let hosts = HostInfo.interfaceAddresses().filter { !$0.isLoopback }.map(\.address)
    /// ```
    public static func interfaceAddresses() -> [InterfaceAddress] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var result: [InterfaceAddress] = []
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            let flags = Int32(entry.pointee.ifa_flags)
            guard flags & Int32(IFF_UP) != 0, let address = entry.pointee.ifa_addr,
                  let namePointer = entry.pointee.ifa_name else { continue }
            let name = String(cString: namePointer)
            let index = if_nametoindex(namePointer)
            let loopback = flags & Int32(IFF_LOOPBACK) != 0
            let multicast = flags & Int32(IFF_MULTICAST) != 0
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
            switch Int32(address.pointee.sa_family) {
            case AF_INET:
                var ipv4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                inet_ntop(AF_INET, &ipv4, &text, socklen_t(text.count))
                result.append(InterfaceAddress(interface: name, address: cText(text), family: 2,
                                               isLoopback: loopback, supportsMulticast: multicast, index: index, ipv4: ipv4))
            case AF_INET6:
                var ipv6 = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                inet_ntop(AF_INET6, &ipv6, &text, socklen_t(text.count))
                var string = cText(text)
                if string.lowercased().hasPrefix("fe80") { string += "%" + name }
                result.append(InterfaceAddress(interface: name, address: string, family: 10,
                                               isLoopback: loopback, supportsMulticast: multicast, index: index, ipv4: nil))
            default:
                continue
            }
        }
        return result.filter { $0.family == 2 } + result.filter { $0.family == 10 }
    }
}

/// A NUL-terminated C string in a buffer, as a Swift string.
func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

extension HostInfo {
    /// The host names a node's TCP server is advertised under, best first: `<hostname>.local`
    /// (as Python rosy), then this machine's non-loopback addresses, IPv4 before IPv6 (no
    /// link-local IPv6: it needs a zone peers cannot know). Peers that cannot resolve
    /// `.local` names fall through to an address.
    ///
    /// ```swift
    /// let specs = HostInfo.advertisedTCPHosts().map { host in
    ///     ConnectionSpec.ip(host: host.name, port: port, family: host.family)
    /// }
    /// ```
    public static func advertisedTCPHosts() -> [(name: String, family: Int)] {
        var hosts: [(name: String, family: Int)] = [(mdnsHostname, 2)]
        var seen: Set<String> = []
        for address in interfaceAddresses() where !address.isLoopback && !address.address.contains("%") {
            if seen.insert(address.address).inserted { hosts.append((address.address, address.family)) }
        }
        return hosts
    }
}
