/// Strict UTF-8 decoding, shared by the codecs: invalid bytes are an error, never repaired.
enum UTF8Text {
    /// The text, or nil when the bytes are not valid UTF-8.
    @inline(__always)
    static func decode(_ bytes: UnsafeRawBufferPointer) -> String? {
        let units = bytes.assumingMemoryBound(to: UInt8.self)
        // Long text: the standard library's own check (ASCII first) is as fast as ours and
        // saves a second pass; for short text its fixed cost is higher (crossover ~2 kB).
        if bytes.count >= 4096, #available(macOS 15, iOS 18, tvOS 18, watchOS 11, visionOS 2, *) {
            return String(validating: units, as: UTF8.self)
        }
        if isASCII(bytes) { return String(decoding: units, as: UTF8.self) }  // the common case, no generic validation
        if #available(macOS 15, iOS 18, tvOS 18, watchOS 11, visionOS 2, *) {
            return String(validating: units, as: UTF8.self)
        }
        // Older Apple systems: decode with repair and compare, repair changes invalid bytes.
        let string = String(decoding: units, as: UTF8.self)
        return string.utf8.elementsEqual(units) ? string : nil
    }

    /// Whether every byte is below 0x80, eight at a time.
    @inline(__always)
    static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let count = bytes.count
        var high: UInt64 = 0
        while count - i >= 8 {
            high |= bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < count {
            high |= UInt64(bytes[i])
            i += 1
        }
        return high & 0x8080_8080_8080_8080 == 0
    }
}
