import Foundation
import Logging
import Rosy
import RosyWire

/// Starting the node a command needs, from the shared options.
enum NodeSession {
    /// The codec named on the command line.
    static func codec(_ name: CodecName) -> any MessageCodec {
        switch name {
        case .pickle: return PickleCodec()
        case .json: return JSONCodec()
        case .msgpack: return MsgpackCodec()
        }
    }

    /// Starts a node named `name` in the options' domain, with their codec and log level.
    static func start(name: String, common: CommonOptions, configure: (inout NodeOptions) -> Void = { _ in }) async throws -> Node {
        try await start(name: name, domainID: common.resolvedDomainID, codec: common.codec,
                        logLevel: common.logLevel, configure: configure)
    }

    static func start(name: String, domainID: String, codec codecName: CodecName, logLevel: Logger.Level,
                      configure: (inout NodeOptions) -> Void = { _ in }) async throws -> Node {
        var options = NodeOptions()
        options.codec = codec(codecName)
        var logger = Logger(label: "rosy")
        logger.logLevel = logLevel
        options.logger = logger
        configure(&options)
        return try await Node.start(name: name, domainID: domainID, options: options)
    }
}

/// Runs work until it ends or Ctrl+C (SIGINT) or SIGTERM arrives; a signal cancels the work,
/// which then ends cleanly (cancellation is not an error here).
///
/// ```swift
/// let interrupted = try await Interruption.run { try await sendEverySecond() }
/// ```
enum Interruption {
    @discardableResult
    static func run(_ body: @escaping @Sendable () async throws -> Void) async throws -> Bool {
        let (signals, continuation) = AsyncStream.makeStream(of: Int32.self)
        let sources = [SIGINT, SIGTERM].map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
        defer {
            for source in sources { source.cancel() }
            continuation.finish()
        }
        return try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                do {
                    try await body()
                } catch is CancellationError {
                    return true
                }
                return false
            }
            group.addTask {
                for await _ in signals { return true }
                return false
            }
            let first = try await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}
