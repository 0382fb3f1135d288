import Foundation
import RosyDiscovery
import RosyTestSupport
import XCTest

/// The TXT blob of a node spec against Python rosy's own codec, both ways.
final class SpecBlobTests: XCTestCase {
    let spec = MeshNodeSpec(
        id: NodeID(name: "swift node", hostname: "box", uuid: UUID(uuidString: "1b4e28ba-2fa1-11d2-883f-0016d3cca427")!),
        connectionSpecs: [.unix(path: "/run/user/1000/rosy/n.sock", host: "box"),
                          .ip(host: "box.local", port: 40123, family: 2),
                          .ip(host: "fe80::1", port: 40123, family: 10)],
        topics: Set((0..<40).map { "topic-\($0)" }), services: ["add", "multiply"])

    func testPythonDecodesOurBlob() throws {
        let strings = TXTBlob.encode(SpecPickle.pickle(spec))
        XCTAssertGreaterThan(strings.count, 2, "a spec this big spans several gzip members")
        XCTAssertTrue(strings.allSatisfy { $0.count <= 255 && !$0.isEmpty })
        let result = try TestSupport.runPython("""
            import sys
            from rosy.discovery.zeroconf import GzipPickleNodeSpecCodec
            node = GzipPickleNodeSpecCodec().decode(sys.stdin.buffer.read())
            print(node.id.name, node.id.hostname, node.id.uuid, sep='|')
            for c in node.connection_specs: print(type(c).__name__, c)
            print(','.join(sorted(node.topics)))
            print(','.join(sorted(node.services)))
            """, input: Data(strings.rdata))
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "swift node|box|1b4e28ba-2fa1-11d2-883f-0016d3cca427")
        XCTAssertEqual(lines.dropFirst().first,
                       "UnixConnectionSpec UnixConnectionSpec(path='/run/user/1000/rosy/n.sock', host='box')")
        XCTAssertEqual(Array(lines.dropFirst(2).prefix(2)), [
            "IpConnectionSpec IpConnectionSpec(host='box.local', port=40123, family=<AddressFamily.AF_INET: 2>)",
            "IpConnectionSpec IpConnectionSpec(host='fe80::1', port=40123, family=<AddressFamily.AF_INET6: 10>)",
        ])
        XCTAssertEqual(lines.dropFirst(4).first, spec.topics.sorted().joined(separator: ","))
        XCTAssertEqual(lines.last, "add,multiply")
    }

    func testWeDecodePythonsBlob() throws {
        let raw = try runPythonRaw("""
            import sys, uuid, socket
            from rosy.discovery.zeroconf import GzipPickleNodeSpecCodec
            from rosy.specs import *
            node = MeshNodeSpec(id=NodeId(name='py', hostname='pyhost', uuid=uuid.UUID('a8098c1a-f86e-11da-bd1a-00112444be1e')),
                connection_specs=[UnixConnectionSpec(path='/tmp/x.sock', host='pyhost'),
                                  IpConnectionSpec(host='pyhost.local', port=5555, family=socket.AF_INET)],
                topics={'a', 'b'}, services={'s'})
            sys.stdout.buffer.write(GzipPickleNodeSpecCodec().encode(node))
            """)
        let decoded = try SpecPickle.unpickle(try TXTBlob.decode(raw))
        XCTAssertEqual(decoded, MeshNodeSpec(
            id: NodeID(name: "py", hostname: "pyhost", uuid: UUID(uuidString: "a8098c1a-f86e-11da-bd1a-00112444be1e")!),
            connectionSpecs: [.unix(path: "/tmp/x.sock", host: "pyhost"), .ip(host: "pyhost.local", port: 5555, family: 2)],
            topics: ["a", "b"], services: ["s"]))
    }

    func testForeignPicklesAreRefused() throws {
        // A pickle naming os.system must be refused, never run.
        let evil = try runPythonRaw("""
            import sys, gzip, pickle, os
            class E:
                def __reduce__(self): return (os.system, ('touch /tmp/rosy-pwned',))
            sys.stdout.buffer.write(gzip.compress(pickle.dumps(E())))
            """)
        XCTAssertThrowsError(try SpecPickle.unpickle(try TXTBlob.decode(evil)))
        XCTAssertThrowsError(try TXTBlob.decode(Array("key=value".utf8)))
        var truncated = TXTBlob.encode(SpecPickle.pickle(spec)).rdata
        truncated.removeLast(30)
        XCTAssertThrowsError(try SpecPickle.unpickle(try TXTBlob.decode(truncated)))
    }

    private func runPythonRaw(_ code: String) throws -> [UInt8] {
        let out = try TestSupport.temporaryDirectory("rosy-blob").appendingPathComponent("out")
        let result = try TestSupport.runPython(code.replacingOccurrences(
            of: "sys.stdout.buffer.write(", with: "open(sys.argv[1], 'wb').write("), [out.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        return Array(try Data(contentsOf: out))
    }
}
