import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The files of one domain's local registry: per node `<uuid>.node` (its spec as JSON,
/// replaced atomically by rename) and `<uuid>.lock`, which the node holds an exclusive
/// `flock` on for as long as it lives. The kernel drops that lock when the process dies,
/// however it dies, so a watcher that can take the lock knows the node is gone.
///
/// Order of operations, which keeps the checks race-free:
/// - a registrant locks `<uuid>.lock` first (re-opening it if a sweeper unlinked it
///   meanwhile), then writes `<uuid>.node`;
/// - it leaves by unlinking `<uuid>.node`, then `<uuid>.lock`, then closing the lock;
/// - a sweeper deletes a dead node's files only while it holds that node's lock.
struct RegistryDirectory: Sendable {
    let url: URL

    static let entrySuffix = ".node"
    static let lockSuffix = ".lock"

    /// The registry folder of `domainID` under `base` (default: the runtime directory).
    init(domainID: String, base: URL? = nil) {
        let root = base ?? RuntimeDirectory.url.appendingPathComponent("discovery")
        url = root.appendingPathComponent(DomainHash.hex(of: domainID))
    }

    init(url: URL) { self.url = url }

    func create() throws {
        try RuntimeDirectory.create(url)
    }

    func entryPath(_ uuid: String) -> String { url.appendingPathComponent(uuid + Self.entrySuffix).path }
    func lockPath(_ uuid: String) -> String { url.appendingPathComponent(uuid + Self.lockSuffix).path }

    // MARK: The registrant's side

    /// Opens and exclusively locks `<uuid>.lock`, creating it. Returns the open descriptor,
    /// which must stay open (and locked) for as long as the node is registered.
    func acquireLock(_ uuid: String) throws -> Int32 {
        let path = lockPath(uuid)
        for _ in 0..<100 {
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw RegistryError("cannot open \(path): \(errnoText())") }
            // Watchers hold the lock only for an instant; a holder for longer is a live
            // registrant of the same uuid.
            var attempts = 0
            while flock(fd, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                attempts += 1
                guard code == EWOULDBLOCK || code == EINTR, attempts < 200 else {
                    close(fd)
                    throw RegistryError(code == EWOULDBLOCK
                        ? "node \(uuid) is already registered (\(path) is locked)"
                        : "cannot lock \(path): \(errnoText(code))")
                }
                usleep(10_000)
            }
            // A sweeper may have unlinked the file between our open and our lock: then our
            // lock is on an orphan inode and we try again with a fresh file.
            var opened = stat(), named = stat()
            if fstat(fd, &opened) == 0, stat(path, &named) == 0,
               opened.st_ino == named.st_ino, opened.st_dev == named.st_dev {
                return fd
            }
            close(fd)
        }
        throw RegistryError("cannot lock \(path): it keeps being replaced")
    }

    /// Writes the node's entry atomically (a temporary file renamed over the old entry).
    func write(_ spec: MeshNodeSpec) throws {
        let uuid = spec.id.uuid.uuidString.lowercased()
        let data = try RegistryRecord(spec).encoded()
        let temporary = url.appendingPathComponent(".\(uuid).\(getpid()).tmp")
        do {
            try data.write(to: temporary)
        } catch {
            throw RegistryError("cannot write \(temporary.path): \(error)")
        }
        guard rename(temporary.path, entryPath(uuid)) == 0 else {
            let text = errnoText()
            unlink(temporary.path)
            throw RegistryError("cannot publish \(entryPath(uuid)): \(text)")
        }
    }

    /// Removes the node's entry and lock file, then releases the lock.
    func remove(_ uuid: String, lock fd: Int32) {
        unlink(entryPath(uuid))
        unlink(lockPath(uuid))
        close(fd)
    }

    // MARK: The watcher's side

    /// Whether the node `uuid` still holds its lock. A node found dead has its files
    /// removed here, under its lock.
    func isAlive(_ uuid: String) -> Bool {
        let path = lockPath(uuid)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            // No lock file: the entry outlived its node (or the node is just leaving).
            if errno == ENOENT { unlink(entryPath(uuid)) }
            return false
        }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            // Nobody holds it: the node died. Clean up while we hold the lock.
            unlink(entryPath(uuid))
            var opened = stat(), named = stat()
            if fstat(fd, &opened) == 0, stat(path, &named) == 0, opened.st_ino == named.st_ino {
                unlink(path)
            }
            return false
        }
        return true
    }

    /// What the folder holds now: the uuids with an entry file, with that file's identity
    /// (inode and change time, so a rewrite is noticed), plus the uuids of lock files
    /// without an entry and of stale temporary files.
    func list() -> Listing {
        var listing = Listing()
        guard let dir = opendir(url.path) else { return listing }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name.hasPrefix(".") {
                if name.hasSuffix(".tmp") { listing.temporaries.append(name) }
                continue
            }
            if name.hasSuffix(Self.entrySuffix) {
                let uuid = String(name.dropLast(Self.entrySuffix.count))
                var info = stat()
                guard stat(entryPath(uuid), &info) == 0 else { continue }
                listing.entries[uuid] = FileIdentity(
                    inode: UInt64(info.st_ino), changed: info.st_ctim.tv_sec * 1_000_000_000 + info.st_ctim.tv_nsec,
                    size: Int64(info.st_size))
            } else if name.hasSuffix(Self.lockSuffix) {
                listing.locks.insert(String(name.dropLast(Self.lockSuffix.count)))
            }
        }
        return listing
    }

    /// Deletes a lock file that has no entry and no holder (left by a node that died
    /// between locking and writing its entry).
    func removeOrphanLock(_ uuid: String) {
        guard FileManager.default.fileExists(atPath: entryPath(uuid)) == false else { return }
        _ = isAlive(uuid)
    }

    /// Deletes a temporary file older than `age` seconds (its writer died mid-write).
    func removeStaleTemporary(_ name: String, olderThan age: Int = 10) {
        let path = url.appendingPathComponent(name).path
        var info = stat()
        guard stat(path, &info) == 0 else { return }
        if time(nil) - info.st_mtim.tv_sec > age { unlink(path) }
    }

    func read(_ uuid: String) throws -> MeshNodeSpec {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: entryPath(uuid)))
        } catch {
            throw RegistryError("cannot read \(entryPath(uuid)): \(error)")
        }
        do {
            return try RegistryRecord.decode(data)
        } catch let error as RegistryError {
            throw error
        } catch {
            throw RegistryError("\(entryPath(uuid)) is not a registry entry: \(error)")
        }
    }

    struct FileIdentity: Equatable {
        var inode: UInt64
        var changed: Int
        var size: Int64
    }

    struct Listing {
        var entries: [String: FileIdentity] = [:]
        var locks: Set<String> = []
        var temporaries: [String] = []
    }
}

func errnoText(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}
