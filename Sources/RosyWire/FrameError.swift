import NIOCore

/// Why a frame could not be built or read. Decoding errors close the connection they came
/// from; encoding errors are thrown at the call, before anything is sent.
public enum FrameError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A client frame started with a byte other than `t` or `s`.
    case unknownPrefix(UInt8)
    /// A service response had a status byte other than `0x00` or `0xEE`.
    case unknownResponseStatus(UInt8)
    /// A frame announced more bytes than the configured maximum message size.
    case messageTooLarge(size: Int, limit: Int)
    /// A topic, service, keyword name or error text was not valid UTF-8.
    case invalidUTF8(field: String)
    /// The stream ended in the middle of a frame.
    case truncatedFrame(leftoverBytes: Int)
    /// A topic, service or keyword name is longer than 255 bytes of UTF-8.
    case nameTooLong(String, bytes: Int)
    /// More than 255 positional or keyword arguments.
    case tooManyArguments(count: Int)
    /// One encoded argument is larger than a u32 length can say.
    case dataItemTooLarge(bytes: Int)
    /// An `m` frame pointed outside its lane, out of order, or at bytes that are not whole frames.
    case badSharedMemoryReference(String)

    public var description: String {
        switch self {
        case .unknownPrefix(let byte):
            return "unknown frame prefix 0x\(String(byte, radix: 16)) (expected 't' or 's')"
        case .unknownResponseStatus(let byte):
            return "unknown service response status 0x\(String(byte, radix: 16)) (expected 0x00 or 0xee)"
        case .messageTooLarge(let size, let limit):
            return "frame of at least \(size) bytes exceeds the maximum message size of \(limit) bytes"
        case .invalidUTF8(let field):
            return "\(field) is not valid UTF-8"
        case .truncatedFrame(let leftover):
            return "connection ended inside a frame (\(leftover) bytes left unread)"
        case .nameTooLong(let name, let bytes):
            return "name '\(name.prefix(40))...' is \(bytes) bytes long; the wire allows at most 255"
        case .tooManyArguments(let count):
            return "\(count) arguments; the wire allows at most 255 positional and 255 keyword arguments"
        case .dataItemTooLarge(let bytes):
            return "an argument encodes to \(bytes) bytes, more than a u32 length allows"
        case .badSharedMemoryReference(let reason):
            return "bad shared-memory reference: \(reason)"
        }
    }
}
