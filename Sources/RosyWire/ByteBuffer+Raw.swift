import NIOCore

extension ByteBuffer {
    /// Writes up to `maximum` bytes through one pointer: one capacity and uniqueness check for
    /// an opcode and its argument instead of one per integer. `body` returns how many it wrote.
    @inline(__always)
    mutating func writeRaw(maximum: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int) {
        writeWithUnsafeMutableBytes(minimumWritableBytes: maximum) { body($0) }
    }
}

extension UnsafeMutableRawBufferPointer {
    @inline(__always)
    func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        storeBytes(of: value, toByteOffset: offset, as: T.self)
    }
}
