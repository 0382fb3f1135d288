import NIOCore
import RosyDiscovery
import RosyWire

extension Node {
    /// The codec used when ``NodeOptions/codec`` is `nil`.
    static var defaultCodec: any MessageCodec { PickleCodec() }

    /// The discovery used when ``NodeOptions/discovery`` is `nil`.
    static func defaultDiscovery(domainID: String) throws -> any Discovery {
        // LocalDiscovery(domainID:) once the discovery target provides it.
        throw NodeError("no default discovery in this build: set NodeOptions.discovery")
    }
}
