import Foundation
import NIOConcurrencyHelpers

/// What one soak node counted, written as JSON to `$SOAK_OUT/<name>.json` for the soak
/// driver (bench/soak.py) to read after the launch has stopped.
///
/// ```swift
/// let report = Report(name: "swift-talker", role: "talker")
/// report.update { $0["sent"] = 1 }
/// report.write()
/// ```
final class Report: Sendable {
    private let name: String
    private let role: String
    private let counts = NIOLockedValueBox([String: Int]())

    init(name: String, role: String) {
        self.name = name
        self.role = role
    }

    func update(_ change: (inout [String: Int]) -> Void) {
        counts.withLockedValue(change)
    }

    /// Adds one to a count.
    func count(_ key: String) {
        counts.withLockedValue { $0[key, default: 0] += 1 }
    }

    /// Replaces the file (written beside it, then renamed: a reader never sees half of it).
    /// Without `SOAK_OUT` it prints the counts instead.
    func write(stage: String) {
        var object: [String: Any] = ["name": name, "role": role, "impl": "swift", "stage": stage,
                                     "pid": Int(getpid())]
        for (key, value) in counts.withLockedValue({ $0 }) { object[key] = value }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        guard let folder = ProcessInfo.processInfo.environment["SOAK_OUT"], !folder.isEmpty else {
            FileHandle.standardOutput.write(data + Data("\n".utf8))
            return
        }
        let path = "\(folder)/\(name).json"
        let temporary = path + ".tmp"
        do {
            try data.write(to: URL(fileURLWithPath: temporary))
            _ = rename(temporary, path)
        } catch {
            FileHandle.standardError.write(Data("soak node \(name): cannot write \(path): \(error)\n".utf8))
        }
    }
}
