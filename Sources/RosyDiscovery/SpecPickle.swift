import Foundation
import NIOCore
import RosyWire

/// `MeshNodeSpec` as Python rosy pickles it (`rosy.specs` dataclasses), both ways.
///
/// Reading allows exactly the six globals a spec pickle names; anything else is an error.
///
/// ```swift
/// let bytes = SpecPickle.pickle(spec)
/// let back = try SpecPickle.unpickle(bytes)
/// ```
public enum SpecPickle {
    static let meshNodeSpec = PickleGlobal("rosy.specs", "MeshNodeSpec")
    static let nodeID = PickleGlobal("rosy.specs", "NodeId")
    static let uuid = PickleGlobal("uuid", "UUID")
    static let ipSpec = PickleGlobal("rosy.specs", "IpConnectionSpec")
    static let unixSpec = PickleGlobal("rosy.specs", "UnixConnectionSpec")
    static let addressFamily = PickleGlobal("socket", "AddressFamily")

    /// The globals a spec pickle may name.
    public static let allowedGlobals: Set<PickleGlobal> = [meshNodeSpec, nodeID, uuid, ipSpec, unixSpec, addressFamily]

    /// The pickle (protocol 5) Python's `pickle.dumps(spec)` would give, up to memo choices.
    public static func pickle(_ spec: MeshNodeSpec) -> [UInt8] {
        PickleWriter().bytes(of: object(of: spec))
    }

    static func object(of spec: MeshNodeSpec) -> PickleObject {
        let uuidBytes = withUnsafeBytes(of: spec.id.uuid.uuid) { Array($0) }
        let uuidObject = PickleObject.instance(of: uuid, state: .dict([
            "int": .integer(unsignedBigEndian: uuidBytes),
            "is_safe": .value(.int(0)),
        ]))
        let id = PickleObject.instance(of: nodeID, state: .dict([
            "name": .value(.string(spec.id.name)),
            "hostname": .value(.string(spec.id.hostname)),
            "uuid": uuidObject,
        ]))
        let connections = spec.connectionSpecs.map { connection -> PickleObject in
            switch connection {
            case .unix(let path, let host):
                return .instance(of: unixSpec, state: .dict([
                    "path": .value(.string(path)), "host": .value(.string(host)),
                ]))
            case .ip(let host, let port, let family):
                return .instance(of: ipSpec, state: .dict([
                    "host": .value(.string(host)), "port": .value(.int(Int64(port))),
                    "family": .reduce(callable: .global(addressFamily), args: [.value(.int(Int64(family)))]),
                ]))
            }
        }
        return .instance(of: meshNodeSpec, state: .dict([
            "id": id,
            "connection_specs": .list(connections),
            "topics": .set(spec.topics.sorted().map { .value(.string($0)) }),
            "services": .set(spec.services.sorted().map { .value(.string($0)) }),
        ]))
    }

    /// Reads a spec pickle; throws ``SpecFormatError`` on anything that is not one.
    public static func unpickle(_ bytes: some Collection<UInt8>) throws -> MeshNodeSpec {
        let object: PickleObject
        do {
            object = try PickleReader(allowedGlobals: allowedGlobals, maxDepth: 64).read(bytes)
        } catch {
            throw SpecFormatError("not a spec pickle: \(error)")
        }
        return try spec(from: object)
    }

    static func spec(from object: PickleObject) throws -> MeshNodeSpec {
        let state = try fields(of: object, meshNodeSpec)
        let idState = try fields(of: try field(state, "id"), nodeID)
        let uuidState = try fields(of: try field(idState, "uuid"), uuid)
        guard let bytes = try field(uuidState, "int").unsignedBigEndianBytes(count: 16) else {
            throw SpecFormatError("uuid.int is not a 128-bit unsigned integer")
        }
        let uuid = UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                               bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        let id = NodeID(name: try string(idState, "name"), hostname: try string(idState, "hostname"), uuid: uuid)

        guard let connectionObjects = try field(state, "connection_specs").elements else {
            throw SpecFormatError("connection_specs is not a list")
        }
        let connections = try connectionObjects.map { object -> ConnectionSpec in
            guard let instance = object.instance, let fields = instance.state else {
                throw SpecFormatError("a connection spec is not an object")
            }
            switch instance.type {
            case unixSpec:
                return .unix(path: try string(fields, "path"), host: try string(fields, "host"))
            case ipSpec:
                let port = try field(fields, "port").plainValue?.intValue
                guard let port, (0...65535).contains(port) else { throw SpecFormatError("bad port in an IpConnectionSpec") }
                return .ip(host: try string(fields, "host"), port: Int(port), family: try family(try field(fields, "family")))
            default:
                throw SpecFormatError("unexpected connection spec \(instance.type)")
            }
        }
        return MeshNodeSpec(id: id, connectionSpecs: connections,
                            topics: try stringSet(state, "topics"), services: try stringSet(state, "services"))
    }

    private static func family(_ object: PickleObject) throws -> Int {
        if let int = object.plainValue?.intValue { return Int(int) }
        guard let instance = object.instance, instance.type == addressFamily,
              instance.args.count == 1, let int = instance.args[0].plainValue?.intValue else {
            throw SpecFormatError("family is not a socket.AddressFamily")
        }
        return Int(int)
    }

    private static func fields(of object: PickleObject, _ type: PickleGlobal) throws -> PickleObject {
        guard let instance = object.instance, instance.type == type, let state = instance.state else {
            throw SpecFormatError("expected a \(type)")
        }
        return state
    }

    private static func field(_ state: PickleObject, _ key: String) throws -> PickleObject {
        guard let value = state[key] else { throw SpecFormatError("missing field \(key)") }
        return value
    }

    private static func string(_ state: PickleObject, _ key: String) throws -> String {
        guard let string = try field(state, key).plainValue?.stringValue else {
            throw SpecFormatError("field \(key) is not a string")
        }
        return string
    }

    private static func stringSet(_ state: PickleObject, _ key: String) throws -> Set<String> {
        guard let items = try field(state, key).plainValue?.arrayValue else {
            throw SpecFormatError("field \(key) is not a set")
        }
        return Set(try items.map { item in
            guard let string = item.stringValue else { throw SpecFormatError("field \(key) holds a non-string") }
            return string
        })
    }
}

/// A discovery record that is not a rosy node spec (not gzip, not a pickle, a wrong global...).
public struct SpecFormatError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
