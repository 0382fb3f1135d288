import Foundation
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Discovery among the nodes of one domain on one host, with no daemon.
///
/// Each node writes its spec to a registry folder in the runtime directory
/// (`<runtime dir>/discovery/<domain hash>/`) and holds a lock next to it for as long as
/// it lives. Watchers see joins, updates and leaves through inotify as they happen, and a
/// node killed with SIGKILL as soon as the kernel drops its lock (a sweep every 250 ms
/// checks too); a dead node's files are removed by the first watcher that notices.
///
/// ```swift
/// let discovery = LocalDiscovery(domainID: "default")
/// try await discovery.register(mySpec)
/// for await event in discovery.events {
///     switch event {
///     case .upserted(let node): print("found", node.id)
///     case .removed(let id): print("gone", id)
///     }
/// }
/// ```
public final class LocalDiscovery: Discovery {
    /// The registry folder of this domain.
    public let directory: URL
    public let events: AsyncStream<MeshEvent>

    private let registry: RegistryDirectory
    private let logger: Logger
    private let continuation: AsyncStream<MeshEvent>.Continuation
    private let state = Mutex(State())
    private let registration = Mutex(())

    private struct State {
        var ownUUID: String?
        var lockFD: Int32?
        var watcher: DirectoryWatcher?
        var stopped = false
        // Owned by the watcher thread's scans (kept here so the class stays Sendable).
        var known: [String: Known] = [:]
        var warned: [String: RegistryDirectory.FileIdentity] = [:]
    }

    private struct Known {
        var identity: RegistryDirectory.FileIdentity
        var spec: MeshNodeSpec
    }

    /// A registry for `domainID`; `baseDirectory` replaces `<runtime dir>/discovery`
    /// (tests use a folder of their own).
    public init(domainID: String, baseDirectory: URL? = nil, logger: Logger = Logger(label: "rosy.discovery.local")) {
        registry = RegistryDirectory(domainID: domainID, base: baseDirectory)
        directory = registry.url
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream(of: MeshEvent.self, bufferingPolicy: .unbounded)
    }

    deinit {
        stopWatching()
        if let fd = state.withLock({ $0.lockFD }), let uuid = state.withLock({ $0.ownUUID }) {
            registry.remove(uuid, lock: fd)
        }
    }

    public func register(_ spec: MeshNodeSpec) async throws {
        try publish(spec)
        logger.debug("registered in \(directory.path)", metadata: ["node": "\(spec.id)"])
        try startWatching()
    }

    public func update(_ spec: MeshNodeSpec) async throws {
        try publish(spec)
        try startWatching()
    }

    /// Locks the node's entry (first time) and writes it; one call at a time, so that a
    /// register and an update racing each other never contend for the lock.
    private func publish(_ spec: MeshNodeSpec) throws {
        let uuid = spec.id.uuid.uuidString.lowercased()
        try registration.withLock { _ in
            let lockFD = state.withLock { $0.ownUUID == uuid ? $0.lockFD : nil }
            if lockFD == nil {
                try registry.create()
                let fd = try registry.acquireLock(uuid)
                let previous = state.withLock { state -> (String, Int32)? in
                    defer { state.ownUUID = uuid; state.lockFD = fd }
                    guard let uuid = state.ownUUID, let fd = state.lockFD else { return nil }
                    return (uuid, fd)
                }
                // A new identity replaces the old one.
                if let (oldUUID, oldFD) = previous { registry.remove(oldUUID, lock: oldFD) }
            }
            try registry.write(spec)
        }
    }

    /// Watches the domain without publishing a node (as `rosy node list` does).
    public func browse() async throws {
        try registry.create()
        try startWatching()
    }

    public func unregister() async {
        stopWatching()
        let own = state.withLock { state -> (String, Int32)? in
            defer { state.ownUUID = nil; state.lockFD = nil }
            guard let uuid = state.ownUUID, let fd = state.lockFD else { return nil }
            return (uuid, fd)
        }
        if let (uuid, fd) = own { registry.remove(uuid, lock: fd) }
        continuation.finish()
    }

    // MARK: Watching

    private func startWatching() throws {
        let needed = state.withLock { !$0.stopped && $0.watcher == nil }
        guard needed else { return }
        let watcher = try DirectoryWatcher(path: directory.path) { [weak self] changed in self?.scan(changed: changed) }
        let extra = state.withLock { state -> DirectoryWatcher? in
            if state.watcher == nil && !state.stopped {
                state.watcher = watcher
                return nil
            }
            return watcher
        }
        extra?.stop()
    }

    private func stopWatching() {
        let watcher = state.withLock { state -> DirectoryWatcher? in
            state.stopped = true
            defer { state.watcher = nil }
            return state.watcher
        }
        watcher?.stop()
    }

    /// One pass over the folder: reads new or rewritten entries, checks every node's lock,
    /// removes what died, and reports the differences. Runs on the watcher's thread only.
    /// `changed` names the files inotify reported: those entries are read again even if
    /// they look the same (an inode number can be reused, and times are coarse).
    private func scan(changed changedFiles: Set<String>) {
        let listing = registry.list()
        let own = state.withLock { $0.ownUUID }
        var seen: [String: Known] = [:]
        var changed: [MeshNodeSpec] = []
        let (known, warned) = state.withLock { ($0.known, $0.warned) }
        var newWarned: [String: RegistryDirectory.FileIdentity] = [:]

        for (uuid, identity) in listing.entries where uuid != own {
            guard registry.isAlive(uuid) else { continue }
            if let old = known[uuid], old.identity == identity,
               !changedFiles.contains(uuid + RegistryDirectory.entrySuffix) {
                seen[uuid] = old
                continue
            }
            do {
                let spec = try registry.read(uuid)
                seen[uuid] = Known(identity: identity, spec: spec)
                if known[uuid]?.spec != spec { changed.append(spec) }
            } catch {
                // A bad entry is reported once per version of the file, then ignored.
                if warned[uuid] != identity {
                    logger.warning("ignoring a local registry entry: \(error)")
                }
                newWarned[uuid] = identity
                if let old = known[uuid] { seen[uuid] = old }
            }
        }
        for uuid in listing.locks where listing.entries[uuid] == nil && uuid != own {
            registry.removeOrphanLock(uuid)
        }
        for name in listing.temporaries { registry.removeStaleTemporary(name) }

        let removed = known.filter { seen[$0.key] == nil }.map(\.value.spec.id)
        state.withLock { state in
            state.known = seen
            state.warned = newWarned
        }
        for spec in changed { continuation.yield(.upserted(spec)) }
        for id in removed { continuation.yield(.removed(id)) }
    }
}
