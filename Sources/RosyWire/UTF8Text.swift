/// Strict UTF-8 decoding, shared by the codecs: invalid bytes are an error, never repaired.
enum UTF8Text {
    /// The text, or nil when the bytes are not valid UTF-8.
    @inline(__always)
    static func decode(_ bytes: UnsafeRawBufferPointer) -> String? {
        let units = bytes.assumingMemoryBound(to: UInt8.self)
        if #available(macOS 15, iOS 18, tvOS 18, watchOS 11, visionOS 2, *) {
            return String(validating: units, as: UTF8.self)
        }
        // Older Apple systems: decode with repair and compare, repair changes invalid bytes.
        let string = String(decoding: units, as: UTF8.self)
        return string.utf8.elementsEqual(units) ? string : nil
    }
}
