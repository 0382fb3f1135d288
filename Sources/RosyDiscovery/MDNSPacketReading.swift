/// What the mDNS reader makes of one packet, without a socket: for the fuzz targets
/// (Sources/RosyFuzzing) and their replay test.
///
/// ```swift
/// let specs = try MDNSPacketReading.specs(in: packet)   // the nodes its TXT records announce
/// ```
package enum MDNSPacketReading {
    /// Parses `packet` as ``MDNSBrowser`` does and reads every TXT record in it as a node's
    /// spec (gzip blob, then spec pickle); a TXT record that is not one is skipped, as the
    /// browser skips it with a warning. Throws ``DNSFormatError`` for a malformed packet.
    package static func specs(in packet: [UInt8]) throws -> [MeshNodeSpec] {
        let message = try DNSMessage(parsing: packet)
        return message.records.compactMap { record in
            guard case .txt(let blob) = record.data else { return nil }
            return try? spec(inTXT: blob)
        }
    }

    /// A TXT record's rdata as a node's spec, as the browser reads it.
    package static func spec(inTXT rdata: [UInt8]) throws -> MeshNodeSpec {
        try SpecPickle.unpickle(try TXTBlob.decode(rdata))
    }
}
