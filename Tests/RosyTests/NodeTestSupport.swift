import Foundation
import Rosy
import RosyDiscovery
import RosyWire
import Synchronization
import XCTest

/// Collects values from callbacks and lets a test wait for a count of them.
final class Collector<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])

    func append(_ item: Element) { items.withLock { $0.append(item) } }
    var values: [Element] { items.withLock { $0 } }
    var count: Int { items.withLock { $0.count } }

    /// Waits (generously) until at least `count` values are in.
    func wait(for count: Int, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while self.count < count {
            if ContinuousClock.now >= deadline {
                throw TestError("timed out waiting for \(count) values, have \(self.count)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}

struct TestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension NodeOptions {
    /// Options for an in-process test node in `mesh`.
    static func inProcess(_ mesh: InProcessMesh, tcp: Bool = false, unix: Bool = true) -> NodeOptions {
        var options = NodeOptions()
        options.discovery = mesh.discovery()
        options.codec = PickleCodec()
        options.allowTCPConnections = tcp
        options.allowUnixConnections = unix
        options.serverHosts = ["127.0.0.1"]
        options.advertisedHost = "127.0.0.1"
        return options
    }
}
