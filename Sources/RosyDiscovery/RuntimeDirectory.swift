import Foundation

/// Where rosy keeps per-user runtime files (sockets, the local discovery registry):
/// `$XDG_RUNTIME_DIR/rosy` when that is set, else `/tmp/rosy-<uid>`.
///
/// ```swift
/// let registry = RuntimeDirectory.url.appendingPathComponent("discovery")
/// ```
public enum RuntimeDirectory {
    /// The folder itself; ``create(_:)`` makes it on first use.
    public static var url: URL {
        let environment = ProcessInfo.processInfo.environment
        if let xdg = environment["XDG_RUNTIME_DIR"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("rosy")
        }
        return URL(fileURLWithPath: "/tmp/rosy-\(getuid())")
    }

    /// Creates `url` and its parents with mode 0700 when missing.
    public static func create(_ url: URL) throws {
        try FileManager.default.createDirectory(
            at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }
}
