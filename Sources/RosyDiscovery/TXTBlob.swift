import CZlib
import Foundation

/// The TXT payload of a rosy node: gzip (level 9) of the spec's pickle.
///
/// Python rosy publishes one plain gzip blob, which is rarely a valid list of TXT strings,
/// so Avahi refuses it. ``encode(_:)`` builds a gzip that is valid as both: several gzip
/// members, each with a 21-byte FEXTRA field whose last byte is the length of the rest of
/// the member (at most 255), so the bytes read as TXT strings too (see the wire reference,
/// section 1). Python's `gzip.decompress` reads all members and skips the extra fields.
///
/// ```swift
/// let strings = TXTBlob.encode(SpecPickle.pickle(spec))   // TXT strings, in order
/// let pickle = try TXTBlob.decode(strings.rdata)           // back, from the record's rdata
/// ```
public enum TXTBlob {
    /// The largest decompressed size accepted from a peer.
    public static let maxDecodedSize = 1 << 20

    /// The TXT strings (without their length bytes) that together spell a multi-member gzip.
    public static func encode(_ payload: [UInt8]) -> [[UInt8]] {
        var strings: [[UInt8]] = []
        var start = 0
        repeat {
            var size = min(200, payload.count - start)
            var body = deflateRaw(Array(payload[start..<(start + size)]))
            while body.count + 8 > 255 && size > 1 {
                size /= 2
                body = deflateRaw(Array(payload[start..<(start + size)]))
            }
            let chunk = Array(payload[start..<(start + size)])
            start += size
            strings.append(contentsOf: member(chunk, deflated: body))
        } while start < payload.count
        return strings
    }

    /// One gzip member as two TXT strings: the header (after its first byte, 0x1f, which is
    /// the first string's length) and the deflate data with the CRC32/ISIZE trailer.
    private static func member(_ chunk: [UInt8], deflated body: [UInt8]) -> [[UInt8]] {
        let crc = chunk.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
        let size = UInt32(truncatingIfNeeded: chunk.count)
        let tail = body + littleEndian(crc) + littleEndian(size)
        // ID1 ID2 CM=8 FLG=FEXTRA, MTIME=0, XFL=2 (best compression), OS=255 (unknown), XLEN=21
        var header: [UInt8] = [0x8b, 0x08, 0x04, 0, 0, 0, 0, 0x02, 0xff, 21, 0]
        // The extra field: a subfield "RY" of 17 bytes, then the next string's length.
        header += Array("RY".utf8) + [17, 0] + Array("rosy-swift TXT".utf8) + [0, 0]
        header.append(UInt8(tail.count))
        precondition(header.count == 31 + 1, "gzip header layout")
        // The first string is 31 bytes (header bytes 1...31); header byte 32 is the length
        // of the second, which Avahi writes itself from the string's size.
        return [Array(header.prefix(31)), tail]
    }

    private static func littleEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xff), UInt8((value >> 8) & 0xff), UInt8((value >> 16) & 0xff), UInt8(value >> 24)]
    }

    /// Raw deflate (no zlib or gzip wrapper) at level 9.
    static func deflateRaw(_ input: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        guard deflateInit2_(&stream, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY,
                            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return [] }
        defer { deflateEnd(&stream) }
        var input = input
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 16)
        let produced = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer -> Int in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = uInt(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = uInt(outBuffer.count)
                guard deflate(&stream, Z_FINISH) == Z_STREAM_END else { return 0 }
                return outBuffer.count - Int(stream.avail_out)
            }
        }
        return Array(output.prefix(produced))
    }

    /// Decompresses a gzip blob of one or more members (Python rosy's, or ours).
    /// Throws ``SpecFormatError`` if it is not gzip or decodes beyond ``maxDecodedSize``.
    public static func decode(_ blob: [UInt8]) throws -> [UInt8] {
        guard blob.count >= 18, blob[0] == 0x1f, blob[1] == 0x8b else {
            throw SpecFormatError("TXT record is not gzip")
        }
        var stream = z_stream()
        // 15 + 16: a gzip wrapper, header and trailer checked by zlib.
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw SpecFormatError("zlib refused to start")
        }
        defer { inflateEnd(&stream) }
        var input = blob
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        try input.withUnsafeMutableBufferPointer { inBuffer in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = uInt(inBuffer.count)
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { outBuffer -> Int32 in
                    stream.next_out = outBuffer.baseAddress
                    stream.avail_out = uInt(outBuffer.count)
                    let status = inflate(&stream, Z_NO_FLUSH)
                    result.append(contentsOf: outBuffer.prefix(outBuffer.count - Int(stream.avail_out)))
                    return status
                }
                guard result.count <= maxDecodedSize else { throw SpecFormatError("TXT record decompresses beyond \(maxDecodedSize) bytes") }
                switch status {
                case Z_STREAM_END:
                    if stream.avail_in == 0 { return }
                    // Another member follows.
                    guard inflateReset(&stream) == Z_OK else { throw SpecFormatError("zlib reset failed") }
                case Z_OK:
                    if stream.avail_in == 0 && stream.avail_out != 0 { throw SpecFormatError("TXT gzip is truncated") }
                default:
                    throw SpecFormatError("TXT record is not valid gzip (zlib status \(status))")
                }
            }
        }
        return result
    }
}

extension Array where Element == [UInt8] {
    /// These TXT strings as a record's rdata: each one prefixed with its length byte.
    public var rdata: [UInt8] {
        var out: [UInt8] = []
        for string in self {
            out.append(UInt8(Swift.min(string.count, 255)))
            out.append(contentsOf: string.prefix(255))
        }
        return out
    }
}
