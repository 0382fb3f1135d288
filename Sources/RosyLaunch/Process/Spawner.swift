#if canImport(Glibc)
import Glibc
#endif
import CRosySys

/// A program to start: everything `posix_spawn` needs.
public struct SpawnRequest: Sendable {
    public var arguments: [String]
    /// `KEY=value` strings.
    public var environment: [String]
    public var workingDirectory: String?

    public init(arguments: [String], environment: [String], workingDirectory: String? = nil) {
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
    }
}

/// A started process: its pid (also its process group) and the read ends of its output pipes.
public struct SpawnedProcess: Sendable {
    public var pid: pid_t
    public var stdout: Int32
    public var stderr: Int32
}

public struct SpawnError: Error, CustomStringConvertible {
    public var program: String
    public var errno: Int32
    public var description: String { "cannot start \(program): \(String(cString: strerror(errno)))" }
}

/// Starts node processes with posix_spawn (never fork: the Swift runtime is not fork-safe):
/// stdin from /dev/null, stdout and stderr into fresh pipes, a process group of its own,
/// an empty signal mask and default signal dispositions.
public enum Spawner {
    /// Starts a process whose output goes to two new pipes.
    public static func spawn(_ request: SpawnRequest) throws -> SpawnedProcess {
        let out = try Posix.pipe()
        let err: (read: Int32, write: Int32)
        do { err = try Posix.pipe() } catch { close(out.read); close(out.write); throw error }
        defer { close(out.write); close(err.write) }
        do {
            let pid = try spawn(request, stdout: out.write, stderr: err.write)
            try? Posix.setNonBlocking(out.read)
            try? Posix.setNonBlocking(err.read)
            return SpawnedProcess(pid: pid, stdout: out.read, stderr: err.read)
        } catch {
            close(out.read); close(err.read)
            throw error
        }
    }

    /// Starts a process with the given descriptors as stdin (-1: /dev/null), stdout and stderr.
    public static func spawn(_ request: SpawnRequest, stdin: Int32 = -1, stdout: Int32, stderr: Int32) throws -> pid_t {
        guard let program = request.arguments.first else { throw SpawnError(program: "(nothing)", errno: EINVAL) }
        let path = resolve(program, environment: request.environment, workingDirectory: request.workingDirectory)
        var pid: pid_t = 0
        let status = withCStrings(request.arguments) { argv in
            withCStrings(request.environment) { envp in
                path.withCString { cPath in
                    withOptionalCString(request.workingDirectory) { cwd in
                        var spawnRequest = crosy_spawn_request(
                            path: cPath, argv: argv, envp: envp, cwd: cwd,
                            stdin_fd: stdin, stdout_fd: stdout, stderr_fd: stderr)
                        return crosy_spawn(&spawnRequest, &pid)
                    }
                }
            }
        }
        guard status == 0 else { throw SpawnError(program: program, errno: status) }
        return pid
    }

    /// A program name without a slash is looked up in the child's own PATH (not the
    /// supervisor's, as posix_spawnp would), so a launch file's `env: PATH` is honoured.
    static func resolve(_ program: String, environment: [String], workingDirectory: String?) -> String {
        if program.contains("/") { return program }
        let pathValue = environment.last { $0.hasPrefix("PATH=") }.map { String($0.dropFirst(5)) }
            ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in pathValue.split(separator: ":", omittingEmptySubsequences: false) {
            var base = folder.isEmpty ? "." : String(folder)
            if !base.hasPrefix("/"), let workingDirectory { base = workingDirectory + "/" + base }
            let candidate = base + "/" + program
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return program
    }
}

private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

private func withOptionalCString<R>(_ string: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
    guard let string else { return body(nil) }
    return string.withCString { body($0) }
}
