import NIOCore
import OrderedCollections

/// A rosy message as one JSON object, `{"args": [...], "kwargs": {...}}`: the form of
/// rosy's MCAP recordings and of the Foxglove bridge's channels, so that a tool that reads
/// JSON finds the first argument at `.args[0]`.
///
/// ```swift
/// MessageJSON.text(args: [.dict(["x": 1.5])], kwargs: [:])
/// // {"args":[{"x":1.5}],"kwargs":{}}
/// let (args, kwargs) = try MessageJSON.arguments(from: Array(#"{"args":[1],"kwargs":{"k":2}}"#.utf8))
/// ```
public enum MessageJSON {
    /// The name of ``schema``.
    public static let schemaName = "rosy.Message"

    /// The JSON Schema (encoding `jsonschema`) that every message object satisfies.
    public static let schema = """
        {"title":"rosy.Message","description":"A rosy topic message: positional and keyword arguments.",\
        "type":"object","properties":{"args":{"type":"array"},"kwargs":{"type":"object"}},\
        "required":["args","kwargs"]}
        """

    /// The message object as a value: `{"args": args, "kwargs": kwargs}`.
    public static func object(args: [Value], kwargs: Kwargs) -> Value {
        var kwargsObject = OrderedDictionary<Value, Value>()
        kwargsObject.reserveCapacity(kwargs.count)
        for (key, value) in kwargs { kwargsObject[.string(key)] = value }
        return .dict([.string("args"): .list(args), .string("kwargs"): .dict(kwargsObject)])
    }

    /// The message object as compact JSON text (see ``Value/jsonText`` for what JSON cannot carry).
    public static func text(args: [Value], kwargs: Kwargs) -> String {
        object(args: args, kwargs: kwargs).jsonText
    }

    /// The arguments of a message read back from JSON bytes.
    ///
    /// An object with `args` or `kwargs` gives those; any other JSON value (a plain
    /// number, or an object written by another tool) is the message's one argument.
    /// Throws ``CodecError`` when the bytes are not JSON.
    public static func arguments(from bytes: some Sequence<UInt8>) throws -> (args: [Value], kwargs: Kwargs) {
        var buffer = ByteBuffer(bytes: bytes)
        return arguments(of: try JSONCodec().decode(&buffer))
    }

    /// The arguments of a message given as a JSON value (see ``arguments(from:)``).
    public static func arguments(of value: Value) -> (args: [Value], kwargs: Kwargs) {
        guard let object = value.dictValue,
              object[.string("args")] != nil || object[.string("kwargs")] != nil
        else { return ([value], [:]) }
        let args = object[.string("args")]?.arrayValue ?? []
        var kwargs = Kwargs()
        for (key, value) in object[.string("kwargs")]?.dictValue ?? [:] {
            if let key = key.stringValue { kwargs[key] = value }
        }
        return (args, kwargs)
    }
}
