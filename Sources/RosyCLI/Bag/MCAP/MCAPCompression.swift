import CLZ4
import CZstd

/// How the records of an MCAP chunk are compressed: not at all, with zstd, or as an LZ4
/// frame, the three kinds the MCAP specification names (https://mcap.dev/spec). The raw
/// value is the chunk record's `compression` field.
///
/// ```swift
/// let packed = try MCAPCompression.zstd.compress(records)
/// let records = try MCAPCompression(field: "zstd").decompress(packed, size: records.count)
/// ```
enum MCAPCompression: String, CaseIterable, Sendable {
    case none = ""
    case zstd
    case lz4

    /// The compression a chunk's `compression` field names; an unknown name is an error.
    init(field: String) throws {
        guard let known = MCAPCompression(rawValue: field) else {
            throw MCAPError("MCAP chunk compression '\(field)' is not supported (none, zstd and lz4 are)")
        }
        self = known
    }

    /// The chunk's records, compressed (the same bytes when `.none`).
    func compress(_ records: [UInt8]) throws -> [UInt8] {
        switch self {
        case .none:
            return records
        case .zstd:
            return try records.withUnsafeBytes { source in
                try [UInt8](unsafeUninitializedCapacity: ZSTD_compressBound(source.count)) { out, count in
                    let written = ZSTD_compress(out.baseAddress, out.count, source.baseAddress, source.count, 3)
                    if ZSTD_isError(written) != 0 { throw MCAPError("zstd: \(String(cString: ZSTD_getErrorName(written)))") }
                    count = written
                }
            }
        case .lz4:
            return try records.withUnsafeBytes { source in
                let bound = LZ4F_compressFrameBound(source.count, nil)
                return try [UInt8](unsafeUninitializedCapacity: bound) { out, count in
                    let written = LZ4F_compressFrame(out.baseAddress, out.count, source.baseAddress, source.count, nil)
                    if LZ4F_isError(written) != 0 { throw MCAPError("lz4: \(String(cString: LZ4F_getErrorName(written)))") }
                    count = written
                }
            }
        }
    }

    /// The most bytes one compressed byte can stand for: zstd turns a 128 KiB block of one
    /// byte into 4 bytes, an LZ4 sequence carries at most 255 bytes per byte of length.
    var maximumRatio: Int {
        switch self {
        case .none: 1
        case .zstd: 1 << 15
        case .lz4: 256
        }
    }

    /// The chunk's records from `data`, which must decompress to exactly `size` bytes (the
    /// chunk's `uncompressed_size`); anything else is a corrupt chunk. A `size` that `data`
    /// cannot hold, even at ``maximumRatio``, is refused before anything is allocated for it.
    func decompress(_ data: ArraySlice<UInt8>, size: Int) throws -> [UInt8] {
        guard size <= data.count * maximumRatio + 1024 else {
            throw MCAPError("corrupt MCAP chunk: \(data.count) \(rawValue.isEmpty ? "uncompressed" : rawValue) bytes cannot hold the \(size) it claims")
        }
        switch self {
        case .none:
            guard data.count == size else { throw MCAPError("corrupt MCAP chunk: wrong size") }
            return Array(data)
        case .zstd:
            return try data.withUnsafeBytes { source in
                try [UInt8](unsafeUninitializedCapacity: size) { out, count in
                    let got = ZSTD_decompress(out.baseAddress, size, source.baseAddress, source.count)
                    if ZSTD_isError(got) != 0 {
                        throw MCAPError("corrupt MCAP chunk: zstd: \(String(cString: ZSTD_getErrorName(got)))")
                    }
                    guard got == size else { throw MCAPError("corrupt MCAP chunk: wrong size") }
                    count = got
                }
            }
        case .lz4:
            return try data.withUnsafeBytes { source in
                try [UInt8](unsafeUninitializedCapacity: size) { out, count in
                    count = try Self.decompressLZ4Frame(source, into: UnsafeMutableRawBufferPointer(out))
                    guard count == size else { throw MCAPError("corrupt MCAP chunk: wrong size") }
                }
            }
        }
    }

    /// Decodes one LZ4 frame; returns the bytes written (never more than `out.count`).
    private static func decompressLZ4Frame(_ source: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) throws -> Int {
        var context: OpaquePointer?
        let created = LZ4F_createDecompressionContext(&context, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(created) == 0, let context else { throw MCAPError("lz4: cannot create a decompression context") }
        defer { LZ4F_freeDecompressionContext(context) }
        var read = 0, written = 0
        while true {
            var outSize = out.count - written
            var inSize = source.count - read
            let hint = LZ4F_decompress(context, out.baseAddress.map { $0 + written }, &outSize,
                                       source.baseAddress.map { $0 + read }, &inSize, nil)
            if LZ4F_isError(hint) != 0 {
                throw MCAPError("corrupt MCAP chunk: lz4: \(String(cString: LZ4F_getErrorName(hint)))")
            }
            read += inSize
            written += outSize
            if hint == 0 { return written }  // the frame is complete
            // The frame wants more: but no input is left, or nothing moved (the output is full:
            // the frame is larger than the chunk declared).
            if read == source.count || (inSize == 0 && outSize == 0) {
                throw MCAPError("corrupt MCAP chunk: lz4 frame ends early or is larger than declared")
            }
        }
    }
}
