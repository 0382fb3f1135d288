import Foundation
@testable import RosyDiscovery
import RosyTestSupport
import XCTest

final class DNSMessageTests: XCTestCase {
    /// A response as a responder writes it, built by Python's zeroconf (a real DNS writer),
    /// with name compression: every record reads back.
    func testReadsZeroconfResponse() throws {
        let out = try TestSupport.temporaryDirectory("rosy-dns").appendingPathComponent("packet")
        let result = try TestSupport.runPython("""
            import sys
            from zeroconf import DNSOutgoing, DNSPointer, DNSService, DNSText, DNSAddress, const
            t = '_rosy-6b01bd89a8._tcp.local.'
            n = 'abc.' + t
            o = DNSOutgoing(const._FLAGS_QR_RESPONSE | const._FLAGS_AA)
            o.add_answer_at_time(DNSPointer(t, const._TYPE_PTR, const._CLASS_IN, 30, n), 0)
            o.add_answer_at_time(DNSService(n, const._TYPE_SRV, const._CLASS_IN, 30, 0, 0, 0, 'box.local.'), 0)
            o.add_answer_at_time(DNSText(n, const._TYPE_TXT, const._CLASS_IN, 0, b'\\x1f\\x8bblob'), 0)
            o.add_answer_at_time(DNSAddress('box.local.', const._TYPE_A, const._CLASS_IN, 120, bytes([10, 0, 0, 7])), 0)
            open(sys.argv[1], 'wb').write(o.packets()[0])
            """, [out.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        let message = try DNSMessage(parsing: Array(try Data(contentsOf: out)))
        XCTAssertTrue(message.isResponse)
        XCTAssertEqual(message.records, [
            DNSRecord(name: "_rosy-6b01bd89a8._tcp.local", ttl: 30, data: .ptr("abc._rosy-6b01bd89a8._tcp.local")),
            DNSRecord(name: "abc._rosy-6b01bd89a8._tcp.local", ttl: 30, data: .srv(priority: 0, weight: 0, port: 0, target: "box.local")),
            DNSRecord(name: "abc._rosy-6b01bd89a8._tcp.local", ttl: 0, data: .txt([0x1f, 0x8b] + Array("blob".utf8))),
            DNSRecord(name: "box.local", ttl: 120, data: .a([10, 0, 0, 7])),
        ])
    }

    func testQueryReadsBack() throws {
        let message = try DNSMessage(parsing: DNSMessage.query(ptr: "_rosy-6b01bd89a8._tcp.local"))
        XCTAssertFalse(message.isResponse)
        XCTAssertEqual(message.questions.map(\.name), ["_rosy-6b01bd89a8._tcp.local"])
        XCTAssertEqual(message.questions.map(\.type), [DNSMessage.typePTR])
    }

    /// Random, truncated and self-pointing packets: each is an error or a message, never a
    /// crash or a hang.
    func testMalformedPacketsNeverCrash() {
        var generator = SystemRandomNumberGenerator()
        let valid = DNSMessage.query(ptr: "_rosy-6b01bd89a8._tcp.local") + [0xC0, 0x0C, 0, 16, 0, 1, 0, 0, 0, 30, 0, 3, 2, 0x41, 0x42]
        var header = valid
        header[7] = 1  // one answer
        var errors = 0
        for length in 0..<header.count {
            if (try? DNSMessage(parsing: Array(header.prefix(length)))) == nil { errors += 1 }
        }
        XCTAssertGreaterThan(errors, 0)
        // A pointer to itself, and one forwards.
        XCTAssertThrowsError(try DNSMessage(parsing: [0, 0, 0x84, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 12, 0, 1]))
        XCTAssertThrowsError(try DNSMessage(parsing: [0, 0, 0x84, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 40, 0, 12, 0, 1]))
        for _ in 0..<20_000 {
            var packet = header
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                packet[Int.random(in: 0..<packet.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            _ = try? DNSMessage(parsing: packet)
            let noise = (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            _ = try? DNSMessage(parsing: noise)
        }
    }
}
