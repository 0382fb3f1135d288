#if canImport(Glibc)
import Glibc
#endif

/// An append-only log file that is rotated by size: `x.log` becomes `x.log.1`, `x.log.1`
/// becomes `x.log.2`, and so on up to `keep` old files.
final class RotatingFile {
    let path: String
    let maximumSize: Int
    let keep: Int
    private var fd: Int32
    private(set) var size: Int

    init(path: String, maximumSize: Int, keep: Int) throws {
        self.path = path
        self.maximumSize = maximumSize
        self.keep = keep
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw PosixError("open \(path)") }
        var info = stat()
        size = fstat(fd, &info) == 0 ? Int(info.st_size) : 0
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Appends whole lines; rotates first when they would not fit.
    func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty, fd >= 0 else { return }
        if size > 0 && size + bytes.count > maximumSize { rotate() }
        if Posix.writeAll(fd, bytes) { size += bytes.count }
    }

    private func rotate() {
        close(fd)
        if keep == 0 {
            unlink(path)
        } else {
            var index = keep - 1
            while index >= 1 {
                rename("\(path).\(index)", "\(path).\(index + 1)")
                index -= 1
            }
            rename(path, "\(path).1")
        }
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0o644)
        size = 0
    }
}
