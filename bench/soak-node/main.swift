// A node of the soak (bench/soak, bench/README.md "Soak"), its role named by its arguments:
//
//   rosy-soak-node talker TOPIC RATE         sends 1, 2, 3 ... on TOPIC, RATE per second
//   rosy-soak-node listener TOPIC            counts what arrives on TOPIC
//   rosy-soak-node provider SERVICE          answers SERVICE(n) with 2 n
//   rosy-soak-node caller SERVICE RATE [FLAKY RATE2]
//                                            calls SERVICE(n), one at a time, RATE per second
//                                            (and FLAKY, whose providers crash, RATE2 per second)
//   rosy-soak-node crasher MIN MAX exit|kill [topic:T | service:S]...
//                                            listens and serves, then after MIN...MAX s exits
//                                            with status 1 (exit) or kills itself (kill)
//
// rosy-launch appends `--name NAME` (and the domain comes from ROSY_DOMAIN_ID). SIGUSR1
// stops sending and calling and writes the counts; SIGINT or SIGTERM writes them again and
// stops the node. The counts go to $SOAK_OUT/NAME.json (stdout without SOAK_OUT).
import Foundation
import Rosy

func usage() -> Never {
    FileHandle.standardError.write(Data("""
        usage: rosy-soak-node talker TOPIC RATE | listener TOPIC | provider SERVICE
               | caller SERVICE RATE [FLAKY RATE2] | crasher MIN MAX exit|kill [topic:T | service:S]...
        """.utf8 + Data("\n".utf8)))
    exit(2)
}

/// The words before `--name` / `--domain-id`, which rosy-launch appends.
var words = Array(CommandLine.arguments.dropFirst())
if let index = words.firstIndex(where: { $0.hasPrefix("--") }) { words = Array(words[..<index]) }
guard let roleName = words.first else { usage() }
/// A rate argument: a positive number of events per second.
func rate(_ word: String) -> Double {
    guard let value = Double(word), value > 0 else { usage() }
    return value
}

let role: Role
switch (roleName, words.count) {
case ("talker", 3): role = .talker(topic: words[1], rate: rate(words[2]))
case ("listener", 2): role = .listener(topic: words[1])
case ("provider", 2): role = .provider(service: words[1])
case ("caller", 3): role = .caller(service: words[1], rate: rate(words[2]), flaky: nil)
case ("caller", 5): role = .caller(service: words[1], rate: rate(words[2]), flaky: (words[3], rate(words[4])))
case ("crasher", 4...):
    guard let low = Double(words[1]), let high = Double(words[2]), low <= high,
          ["exit", "kill"].contains(words[3]) else { usage() }
    let rest = words.dropFirst(4)
    role = .crasher(topics: rest.filter { $0.hasPrefix("topic:") }.map { String($0.dropFirst(6)) },
                    services: rest.filter { $0.hasPrefix("service:") }.map { String($0.dropFirst(8)) },
                    lifetime: low...high, how: words[3])
default: usage()
}

let arguments = NodeArguments(defaultName: "soak-\(roleName)")
let report = Report(name: arguments.name, role: role.name)
try await Node.withNode(name: arguments.name, domainID: arguments.domainID) { node in
    let work = try await role.start(on: node, report: report).map { body in Task { await body() } }
    let quiesce = onSignal(SIGUSR1) {
        work?.cancel()
        Task {
            _ = await work?.value
            report.write(stage: "quiesced")
        }
    }
    report.write(stage: "started")
    await node.forever()
    quiesce.cancel()
    work?.cancel()
    _ = await work?.value
}
report.write(stage: "stopped")
