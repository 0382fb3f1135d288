import CRosySys
import NIOCore
import Synchronization
import RosyDiscovery
import RosyWire
#if canImport(Glibc)
import Glibc
#endif

/// Large frames between two rosy-swift nodes on one host travel through memory that both
/// map, instead of through the socket: the sender puts a frame into a ring and sends a
/// 13-byte `m` frame (``SharedMemoryReference``) in its place. The kernel's copy of 1 MB into
/// and out of the socket (most of a sender's time) is gone. Zenoh does the same between
/// processes of one host (its `transport_optimization`), as does ROS 2 with iceoryx.
///
/// Each byte of a large message is copied once at each end:
/// - A large topic message to one peer is encoded without its large str and bytes payloads
///   when the codec leaves them out (``GatheredFrame``; pickle does); they are copied
///   straight from the sender's values into the ring when the frame is written.
/// - A topic message in the ring stays there (``LaneTopicMessage``) until the connection's
///   consumer task decodes it, at the listener's pace, straight into its values; then its
///   place is released (``LaneReleases``). Other frames (large service requests) are
///   copied out and read as if they had come from the socket.
///
/// How a lane opens, per connection and only when the first frame of
/// ``threshold`` bytes or more is to be sent to a peer on this host whose node id is not a
/// version-1 UUID (rosy 0.8.3's nodes use `uuid1`; this implementation's `UUID()`):
/// 1. The client makes a sealed memfd (``LaneMemory``) and calls the reserved service
///    ``offerService`` with its path (`/proc/PID/fd/FD`), a random cookie and the ring's size.
/// 2. The server opens that path, checks that it is a sealed file of that size whose header
///    holds the magic and the cookie, maps it, answers `True`, and from then on reads `m`
///    frames on that connection. Anything else (another host with the same name, another
///    pid namespace, an old server: "not provided") answers an error, and the client keeps
///    to the socket.
///
/// Order is kept because the `m` frames go through the socket with the others. The ring is
/// single-producer, single-consumer: the client writes at its head, the server publishes how
/// far the client may reuse it (`released`: up to the oldest message still waiting to be
/// decoded, or past the last frame taken); a frame that
/// does not fit waits, in order, and the frames behind it wait too, so a slow receiver slows
/// its sender as a full socket does. Only single large frames go into the lane: a run of
/// small frames, however long, goes through the socket as it is. Responses (server to client)
/// always go through the socket.
///
/// Layout of the memory: a 4 KiB header (magic u64 at 0, cookie u64 at 8, ring size u64 at
/// 16, `released` u64 at 64, written by the server only), then the ring.
enum SharedMemoryLane {
    /// The reserved service a client calls to offer its lane (never listed, never dispatched).
    static let offerService = "rosy:shared-memory-lane"
    /// Single frames from this size on go through the lane.
    static let threshold = 64 * 1024
    /// The ring's size: 16 MiB, so about fifteen 1 MB messages can be in flight.
    static let ringSize = 16 * 1024 * 1024
    /// Frames larger than this go through the socket (they would hold most of the ring).
    static var largestFrame: Int { ringSize / 4 }

    /// Frames that this process put in lanes, and lanes that opened (diagnostics, and for
    /// tests to tell that a lane carried what they sent).
    static let framesPlaced = Atomic<Int>(0)
    static let lanesOpened = Atomic<Int>(0)
    /// Times a frame found the ring full and waited for room.
    static let framesHeld = Atomic<Int>(0)
    /// Frames put into lanes with their large payloads copied straight in (``GatheredFrame``).
    static let framesGathered = Atomic<Int>(0)
    /// Topic messages that this process decoded where they lay in a lane.
    static let messagesLeftInLane = Atomic<Int>(0)

    static let headerSize = 4096
    static let magic: UInt64 = 0x314E_414C_5953_4F52  // "ROSYLAN1", little-endian
    static let magicOffset = 0
    static let cookieOffset = 8
    static let sizeOffset = 16
    static let releasedOffset = 64

    /// Whether a node with these options offers and accepts lanes: ``NodeOptions/sharedMemory``,
    /// unless the environment says `ROSY_SHARED_MEMORY=0`.
    static func isEnabled(_ options: NodeOptions) -> Bool {
        guard options.sharedMemory else { return false }
        guard let value = getenv("ROSY_SHARED_MEMORY") else { return true }
        return !["0", "false", "off", "no"].contains(String(cString: value).lowercased())
    }

    /// Whether a client may offer a lane to this peer: on this host, and not a rosy 0.8.3
    /// node (whose ids are version-1 UUIDs: it would log a warning for the unknown service).
    static func mayOffer(to peer: NodeID, localHostname: String) -> Bool {
        peer.hostname == localHostname && peer.uuid.uuid.6 >> 4 != 1
    }
}

/// Why a lane could not be made or accepted.
struct LaneError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }

    static func system(_ call: String) -> LaneError {
        LaneError("\(call): \(String(cString: strerror(errno)))")
    }
}

/// A mapping of a lane's memory (on either side), unmapped when the last user lets go.
final class LaneMemory: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    let mappedSize: Int
    /// The ring's size in bytes.
    let ringSize: Int

    private init(base: UnsafeMutableRawPointer, mappedSize: Int) {
        self.base = base
        self.mappedSize = mappedSize
        self.ringSize = mappedSize - SharedMemoryLane.headerSize
    }

    deinit { munmap(base, mappedSize) }

    static func map(_ fd: Int32, size: Int) throws -> LaneMemory {
        let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let address, address != MAP_FAILED else { throw LaneError.system("mmap") }
        return LaneMemory(base: address, mappedSize: size)
    }

    var ring: UnsafeMutableRawPointer { base + SharedMemoryLane.headerSize }

    func header(at offset: Int) -> UInt64 {
        UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    func setHeader(_ value: UInt64, at offset: Int) {
        base.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt64.self)
    }

    /// How far the server has read (the client may reuse the ring up to there).
    var released: UInt64 { crosy_load_acquire_u64(base + SharedMemoryLane.releasedOffset) }

    func release(upTo position: UInt64) {
        crosy_store_release_u64(base + SharedMemoryLane.releasedOffset, position)
    }
}

/// The client's end of a lane: puts frames in the ring. Used on the connection's event loop.
final class LaneWriter {
    let memory: LaneMemory
    let cookie: UInt64
    /// What the server opens: this process's descriptor of the memfd, through /proc.
    let path: String
    private var descriptor: Int32
    /// Where the next frame goes in the lane's stream (counts up for ever).
    private var head: UInt64 = 0

    /// Makes a new lane's memory: a sealed memfd with the header filled in.
    init(ringSize: Int = SharedMemoryLane.ringSize) throws {
        let size = SharedMemoryLane.headerSize + ringSize
        let fd = crosy_sealed_memfd("rosy-lane", UInt64(size))
        guard fd >= 0 else { throw LaneError.system("memfd_create") }
        do {
            memory = try LaneMemory.map(fd, size: size)
        } catch {
            close(fd)
            throw error
        }
        descriptor = fd
        cookie = UInt64.random(in: 1...UInt64.max)
        path = "/proc/\(getpid())/fd/\(fd)"
        memory.setHeader(SharedMemoryLane.magic, at: SharedMemoryLane.magicOffset)
        memory.setHeader(cookie, at: SharedMemoryLane.cookieOffset)
        memory.setHeader(UInt64(ringSize), at: SharedMemoryLane.sizeOffset)
    }

    deinit { closeDescriptor() }

    /// The server has answered the offer: the mapping is all either side needs now.
    func closeDescriptor() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    /// Copies `frames` (one or more whole frames) into the ring and returns where they are,
    /// or nil when the ring has no room for them now (then they go through the socket).
    func place(_ frames: ByteBuffer) -> SharedMemoryReference? {
        place(count: frames.readableBytes) { target in
            frames.withUnsafeReadableBytes { target.copyMemory(from: $0) }
        }
    }

    /// Puts a frame (``Outbox/Frame``: whole, or gathered with its large payloads) into the
    /// ring: each byte is copied once.
    func place(_ frame: Outbox.Frame) -> SharedMemoryReference? {
        switch frame {
        case .bytes(let bytes): return place(bytes)
        case .gathered(let gathered):
            guard let reference = place(count: gathered.size, put: { gathered.put(into: $0) }) else { return nil }
            SharedMemoryLane.framesGathered.add(1, ordering: .relaxed)
            return reference
        }
    }

    /// Reserves `length` bytes at the ring's head, has `put` fill them, and returns where
    /// they are; nil (and `put` not called) when the ring has no room for them now.
    private func place(count length: Int, put: (UnsafeMutableRawBufferPointer) -> Void) -> SharedMemoryReference? {
        guard length > 0, length <= memory.ringSize, length <= Int(UInt32.max) else { return nil }
        let size = UInt64(memory.ringSize)
        var position = head
        let offset = position % size
        if offset + UInt64(length) > size { position += size - offset }  // no frame wraps round
        let released = memory.released
        // `released` is the server's to write; one that makes no sense leaves no room.
        guard released <= head, position + UInt64(length) - released <= size else { return nil }
        put(UnsafeMutableRawBufferPointer(start: memory.ring + Int(position % size), count: length))
        head = position + UInt64(length)
        SharedMemoryLane.framesPlaced.add(1, ordering: .relaxed)
        return SharedMemoryReference(position: position, length: UInt32(length))
    }
}

/// The server's end of a lane: leaves a referenced topic message in the ring for its
/// consumer, or copies other frames out. Used on the connection's loop.
struct LaneReader {
    let memory: LaneMemory
    /// How far the client may reuse the ring.
    private let releases: LaneReleases
    /// Where the next referenced frame may start (the end of the last one).
    private var next: UInt64 = 0
    /// Buffers of earlier frames, used again once their messages are handled (fresh memory
    /// costs a page fault every 4 KiB).
    private var spares: [ByteBuffer] = []

    /// Opens and checks the memory a client offered. `path` must be `/proc/PID/fd/FD`.
    init(path: String, cookie: UInt64, ringSize: Int, largest: Int) throws {
        guard Self.isDescriptorPath(path) else { throw LaneError("not a /proc/PID/fd/FD path: \(path)") }
        guard ringSize >= 64 * 1024, ringSize <= largest else { throw LaneError("ring size \(ringSize) out of bounds") }
        let size = SharedMemoryLane.headerSize + ringSize
        let fd = crosy_open_rdwr(path)
        guard fd >= 0 else { throw LaneError.system("open \(path)") }
        defer { close(fd) }
        guard crosy_is_sealed_of_size(fd, UInt64(size)) == 1 else {
            throw LaneError("\(path) is not a sealed file of \(size) bytes")
        }
        let memory = try LaneMemory.map(fd, size: size)
        guard memory.header(at: SharedMemoryLane.magicOffset) == SharedMemoryLane.magic,
              memory.header(at: SharedMemoryLane.cookieOffset) == cookie,
              memory.header(at: SharedMemoryLane.sizeOffset) == UInt64(ringSize) else {
            throw LaneError("\(path) is not the lane offered (another process's descriptor?)")
        }
        self.memory = memory
        self.releases = LaneReleases(memory)
    }

    static func isDescriptorPath(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 5 && parts[0].isEmpty && parts[1] == "proc" && parts[3] == "fd"
            && [parts[2], parts[4]].allSatisfy { !$0.isEmpty && $0.count < 12 && $0.allSatisfy(\.isASCIIDigit) }
    }

    /// The referenced bytes, copied into a buffer of their own; their place in the ring is
    /// released at once (or as soon as the messages left in the lane before them are
    /// decoded). Throws for a reference outside the ring or before the last one.
    mutating func take(_ reference: SharedMemoryReference, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        let offset = try check(reference)
        let length = Int(reference.length)
        var frames = spare(capacity: length) ?? allocator.buffer(capacity: length)
        frames.writeBytes(UnsafeRawBufferPointer(start: memory.ring + offset, count: length))
        next = reference.position + UInt64(length)
        releases.taken(reference, kept: false)
        keep(frames)
        return frames
    }

    /// The referenced frame left where it is, when it is exactly one topic message
    /// (``TopicMessagePlaces``): its listener's task decodes it from the ring, and its place
    /// is released then (``LaneTopicMessage/release()``), so a 1 MB message is copied once,
    /// into its values, and only the message being decoded holds decoded memory. Nil for
    /// anything else (``take(_:allocator:)`` copies it out and the decoder reads it).
    mutating func borrowTopicMessage(_ reference: SharedMemoryReference, maximumMessageSize: Int) throws -> LaneTopicMessage? {
        let offset = try check(reference)
        let bytes = UnsafeRawBufferPointer(start: memory.ring + offset, count: Int(reference.length))
        guard let places = TopicMessagePlaces(reading: bytes, maximumMessageSize: maximumMessageSize) else { return nil }
        next = reference.position + UInt64(reference.length)
        releases.taken(reference, kept: true)
        SharedMemoryLane.messagesLeftInLane.add(1, ordering: .relaxed)
        return LaneTopicMessage(memory: memory, offset: offset, reference: reference, places: places, releases: releases)
    }

    /// Where a reference's bytes start in the ring; throws for one outside the ring or
    /// before the last one.
    private func check(_ reference: SharedMemoryReference) throws -> Int {
        let size = UInt64(memory.ringSize)
        let length = UInt64(reference.length)
        let offset = reference.position % size
        guard length > 0, reference.position >= next, reference.position - next < size,
              offset + length <= size else {
            throw FrameError.badSharedMemoryReference(
                "\(reference.length) bytes at \(reference.position), the lane's next byte being \(next) of a \(size)-byte ring")
        }
        return Int(offset)
    }

    private mutating func spare(capacity: Int) -> ByteBuffer? {
        for index in spares.indices where spares[index].capacity >= capacity {
            if spares[index].modifyIfUniquelyOwned({ $0.clear() }) != nil {
                return spares.remove(at: index)
            }
        }
        return nil
    }

    private mutating func keep(_ buffer: ByteBuffer) {
        guard buffer.capacity <= 4 * 1024 * 1024 else { return }
        if spares.count >= 8 { spares.removeFirst() }
        spares.append(buffer)
    }
}

/// A topic message left in a lane (``LaneReader/borrowTopicMessage(_:maximumMessageSize:)``)
/// until its connection's consumer decodes it; then its place is released. A class, so that
/// an inbox entry stays as small as a socket frame's.
final class LaneTopicMessage: Sendable {
    /// Keeps the ring mapped while the message waits, even after its connection has gone.
    let memory: LaneMemory
    /// Where the frame starts in the ring.
    let offset: Int
    let reference: SharedMemoryReference
    let places: TopicMessagePlaces
    let releases: LaneReleases

    init(memory: LaneMemory, offset: Int, reference: SharedMemoryReference, places: TopicMessagePlaces, releases: LaneReleases) {
        self.memory = memory
        self.offset = offset
        self.reference = reference
        self.places = places
        self.releases = releases
    }

    /// The frame, in the ring (valid until ``release()``).
    var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: memory.ring + offset, count: Int(reference.length))
    }

    /// The frame has been decoded (or dropped): the client may reuse its place.
    func release() { releases.finished(reference) }
}

/// How far a lane's client may reuse the ring: up to the first frame still left there for
/// its consumer, or past the last frame taken when none is left. Frames are taken in order
/// on the connection's loop and released in order by its consumer task.
final class LaneReleases: Sendable {
    private struct State {
        /// Frames left in the ring, oldest first.
        var kept = CircularBuffer<SharedMemoryReference>()
        /// The end of the last frame taken.
        var taken: UInt64 = 0
        var published: UInt64 = 0
    }
    private let state = Mutex(State())
    private let memory: LaneMemory

    init(_ memory: LaneMemory) { self.memory = memory }

    /// A frame was taken: copied out (`kept` false) or left for the consumer.
    func taken(_ reference: SharedMemoryReference, kept: Bool) {
        state.withLock { state in
            if kept { state.kept.append(reference) }
            state.taken = reference.position + UInt64(reference.length)
            publish(&state)
        }
    }

    /// A frame left in the ring was decoded.
    func finished(_ reference: SharedMemoryReference) {
        state.withLock { state in
            if state.kept.first == reference {
                state.kept.removeFirst()
            } else if let index = state.kept.firstIndex(of: reference) {
                state.kept.remove(at: index)
            }
            publish(&state)
        }
    }

    private func publish(_ state: inout State) {
        let free = state.kept.first?.position ?? state.taken
        guard free > state.published else { return }
        state.published = free
        memory.release(upTo: free)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
