import NIOCore
import RosyDiscovery
import RosyWire

extension Node {
    /// The codec used when ``NodeOptions/codec`` is `nil`.
    static var defaultCodec: any MessageCodec { UnavailableCodec() }

    /// The discovery used when ``NodeOptions/discovery`` is `nil`.
    static func defaultDiscovery(domainID: String) -> any Discovery {
        fatalError("no default discovery yet")
    }
}

/// Stands in until the pickle codec lands.
struct UnavailableCodec: MessageCodec {
    let name = "pickle"
    func encode(_ value: Value, into buffer: inout ByteBuffer) throws { throw CodecError(codec: name, "not available yet") }
    func decode(_ buffer: inout ByteBuffer) throws -> Value { throw CodecError(codec: name, "not available yet") }
}
