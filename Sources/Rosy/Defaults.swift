import NIOCore
import RosyDiscovery
import RosyWire

extension Node {
    /// The codec used when ``NodeOptions/codec`` is `nil`.
    static var defaultCodec: any MessageCodec { PickleCodec() }

    /// The discovery used when ``NodeOptions/discovery`` is `nil`: the package's default
    /// (the local registry, with Avahi across the LAN where built; `ROSY_DISCOVERY` picks one).
    static func defaultDiscovery(domainID: String) throws -> any Discovery {
        makeDefaultDiscovery(domainID: domainID)
    }
}
