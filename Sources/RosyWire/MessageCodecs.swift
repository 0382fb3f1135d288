/// The codecs rosy ships, by the names the command line uses.
///
/// ```swift
/// let codec = try MessageCodecs.named("msgpack")   // any MessageCodec
/// ```
public enum MessageCodecs {
    /// `pickle` (the default), `json` and `msgpack`.
    public static let all: [any MessageCodec] = [PickleCodec(), JSONCodec(), MsgpackCodec()]

    /// The names of ``all``, in order.
    public static var names: [String] { all.map(\.name) }

    /// The codec with this name; a ``CodecError`` listing the known names otherwise.
    public static func named(_ name: String) throws -> any MessageCodec {
        if let codec = all.first(where: { $0.name == name.lowercased() }) { return codec }
        throw CodecError(codec: name, "unknown codec \"\(name)\"; known codecs: \(names.joined(separator: ", "))")
    }
}
