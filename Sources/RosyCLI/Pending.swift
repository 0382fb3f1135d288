// Parts waiting for the node library and rosy-launch (replaced when they land in main).

struct MeshNodeSummary { var name: String; var topics: [String]; var services: [String] }
enum MeshSnapshot {
    static func discover(common: CommonOptions, seconds: Double) async throws -> [MeshNodeSummary] {
        throw CLIError("node discovery is not built yet")
    }
}
enum NodeListing { static func text(for nodes: [MeshNodeSummary], verbose: Bool) -> String { "" } }
struct TopicEcho { var common: CommonOptions; var name: String; var topics: [String]; var json: Bool
    func run() async throws { throw CLIError("not built yet") } }
struct TopicSend { var common: CommonOptions; var name: String; var topic: String; var message: MessageArguments; var interval: Double; var wait: Bool
    func run() async throws { throw CLIError("not built yet") } }
struct ServiceCall { var common: CommonOptions; var name: String; var service: String; var message: MessageArguments; var interval: Double; var timeout: Double; var wait: Bool
    func run() async throws { throw CLIError("not built yet") } }
struct BagRecorder { var common: CommonOptions; var name: String; var topics: [String]; var path: String; var format: RecordingFormat; var printDots: Bool
    func run() async throws { throw CLIError("not built yet") } }
struct BagPlayer { var common: CommonOptions; var name: String; var path: String; var rate: Double; var immediate: Bool; var topics: Set<String>?; var loop: Bool; var log: Bool; var logArgs: Bool; var waitForListeners: Double
    func run() async throws { throw CLIError("not built yet") } }
struct Speedtest { var options: SpeedtestOptions
    func send() async throws { throw CLIError("not built yet") }
    func receive() async throws { throw CLIError("not built yet") } }
enum LaunchForwarding { static func run(_ arguments: [String]) async throws { throw CLIError("rosy-launch is not built yet") } }
import Foundation
