/// The readers of `bag play` and `bag info` on bytes in memory, for the fuzz targets
/// (Sources/RosyFuzzing) and their replay test: each returns how many messages it read,
/// or throws what `bag` would print.
///
/// ```swift
/// let count = try RecordingReaders.readMCAP(bytes)   // 12
/// ```
package enum RecordingReaders {
    /// An MCAP file's rosy messages, as ``Recording`` reads them.
    package static func readMCAP(_ bytes: [UInt8]) throws -> Int {
        try MCAPRecordingFormat.messages(in: MCAPReader.read(bytes)).count
    }

    /// A rosy `.bag` file's messages, as ``Recording`` reads them.
    package static func readBag(_ bytes: [UInt8]) throws -> Int {
        try RosyBagFormat.messages(from: bytes).0.count
    }
}
