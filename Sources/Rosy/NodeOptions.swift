import Logging
import NIOCore
import NIOPosix
import RosyDiscovery
import RosyWire

/// How a node is set up. Every option has rosy's default.
///
/// ```swift
/// var options = NodeOptions()
/// options.allowTCPConnections = false          // same-host only, over the Unix socket
/// options.codec = JSONCodec()
/// options.topicLoadBalancer = .everyListener
/// let node = try await Node.start(name: "planner", options: options)
/// ```
public struct NodeOptions: Sendable {
    /// Serve peers on a Unix socket in the runtime directory (same-host peers use it).
    public var allowUnixConnections = true
    /// Serve peers over TCP, on an ephemeral port of each of ``serverHosts``.
    public var allowTCPConnections = true
    /// Send large messages (64 KiB and more) to other rosy-swift nodes of this host through
    /// shared memory, and accept theirs: the socket then carries a 13-byte reference in their
    /// place (see `SharedMemoryLane`). Python rosy 0.8.3 peers always get the socket.
    /// Off: every byte goes through the socket, both ways. Environment: `ROSY_SHARED_MEMORY=0`.
    public var sharedMemory = true
    /// The addresses the TCP server binds to (default: every IPv4 interface).
    public var serverHosts: [String] = ["0.0.0.0"]
    /// The host name peers use to reach the TCP server; default `<hostname>.local`, as rosy.
    public var advertisedHost: String?
    /// The data codec; `nil` means pickle, as Python rosy. Every node of a mesh must agree.
    public var codec: (any MessageCodec)?
    /// Which listeners of a topic get each message (default: one per node name, least recently chosen).
    public var topicLoadBalancer: any TopicLoadBalancer = GroupByNodeNameBalancer()
    /// Which provider of a service gets each call (default: least recently chosen).
    public var serviceLoadBalancer: any ServiceLoadBalancer = LeastRecentPicker()
    /// How to find the rest of the mesh; `nil` means the package's default discovery for the
    /// node's domain (`makeDefaultDiscovery`: the local registry, plus Avahi where built).
    public var discovery: (any Discovery)?
    /// Topic messages waiting per peer. When full, a sender waits (up to half a second) for a
    /// connection that drains it; for a peer that stalled, the oldest message is dropped with
    /// a warning instead, as Python rosy does.
    public var outboxCapacity = 100
    /// Bytes of topic messages waiting per peer, as a second bound next to
    /// ``outboxCapacity`` (100 messages of 1 MB would otherwise hold 100 MB per peer). A single
    /// message larger than this still goes, alone.
    public var outboxByteCapacity = 8 * 1024 * 1024
    /// A topic message not written to its peer within this time is dropped with a warning.
    public var outboxTimeToLive: TimeAmount = .seconds(5)
    /// The largest frame this node accepts from a peer (default 64 MiB): a frame whose header
    /// claims more closes that connection with one logged line, before any of its data is
    /// read or memory reserved for it; the node goes on serving its other peers. A frame in
    /// progress holds at most 4 MiB before its bytes arrive, then no more than twice what
    /// arrived. Service responses this node reads are held to the same bound.
    public var maxFrameSize = defaultMaximumMessageSize
    /// The former name of ``maxFrameSize``.
    @available(*, deprecated, renamed: "maxFrameSize")
    public var maximumMessageSize: Int {
        get { maxFrameSize }
        set { maxFrameSize = newValue }
    }
    /// The event loops for sockets. Default: NIO's shared singleton group; with
    /// `ROSY_BUSY_POLL_US` set to a number of microseconds, one loop that polls that long
    /// before it sleeps, shared by the process's nodes (``BusyPolling``).
    public var eventLoopGroup: any EventLoopGroup =
        BusyPolling.groupFromEnvironment ?? MultiThreadedEventLoopGroup.singleton
    /// Where the node logs.
    public var logger = Logger(label: "rosy.node")

    public init() {}
}
