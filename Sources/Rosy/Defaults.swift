import NIOCore
import RosyDiscovery
import RosyWire

extension Node {
    /// The codec used when ``NodeOptions/codec`` is `nil`.
    static var defaultCodec: any MessageCodec { PickleCodec() }

    /// The discovery used when ``NodeOptions/discovery`` is `nil`.
    static func defaultDiscovery(domainID: String) -> any Discovery {
        fatalError("no default discovery yet")
    }
}

