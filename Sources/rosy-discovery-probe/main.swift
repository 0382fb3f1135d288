// A tiny program for discovery tests that need separate processes.
//
//   rosy-discovery-probe register --domain D --name N [--uuid U] [--dir BASE] [--topic T]... [--service S]...
//       registers a node, prints `registered <uuid>`, then reads commands from stdin:
//       `topic T` / `service S` add one and update; `quit` (or end of input) unregisters.
//   rosy-discovery-probe watch --domain D [--dir BASE]
//       prints `up <uuid> <name> topics=a,b services=c` and `down <uuid>` lines as the mesh changes.
//
// `--backend local|avahi|both|env` picks the discovery as ROSY_DISCOVERY does (default: the local
// registry in `--dir`).
import Foundation
import RosyDiscovery

/// Prints one line at once (stdout is a pipe in tests, so `print` would buffer it).
func say(_ text: String) {
    FileHandle.standardOutput.write((text + "\n").data(using: .utf8)!)
}

var arguments = Array(CommandLine.arguments.dropFirst())
guard let mode = arguments.first else {
    FileHandle.standardError.write("usage: rosy-discovery-probe register|watch --domain D ...\n".data(using: .utf8)!)
    exit(2)
}
arguments.removeFirst()
var options: [String: [String]] = [:]
while arguments.count >= 2, arguments[0].hasPrefix("--") {
    options[String(arguments[0].dropFirst(2)), default: []].append(arguments[1])
    arguments.removeFirst(2)
}
let domain = options["domain"]?.last ?? "default"
let base = options["dir"]?.last.map { URL(fileURLWithPath: $0) }

let backendName = options["backend"]?.last

func makeDiscovery(domain: String, base: URL?, backend: String?) -> any Discovery {
    guard let backend else {
        return LocalDiscovery(domainID: domain, baseDirectory: base)
    }
    // `--backend env`: as a node does, from ROSY_DISCOVERY.
    return makeDefaultDiscovery(domainID: domain, choice: backend == "env" ? nil : DiscoveryChoice(rawValue: backend))
}

func line(_ spec: MeshNodeSpec) -> String {
    let connections = spec.connectionSpecs.map(\.description).joined(separator: ",")
    return "up \(spec.id.uuid.uuidString.lowercased()) \(spec.id.name) host=\(spec.id.hostname)"
        + " topics=\(spec.topics.sorted().joined(separator: ","))"
        + " services=\(spec.services.sorted().joined(separator: ","))"
        + " connections=\(connections)"
}

switch mode {
case "register":
    let uuid = options["uuid"]?.last.flatMap(UUID.init(uuidString:)) ?? UUID()
    let host = HostInfo.hostname
    var spec = MeshNodeSpec(
        id: NodeID(name: options["name"]?.last ?? "probe", hostname: host, uuid: uuid),
        connectionSpecs: [.unix(path: "/tmp/probe-\(uuid.uuidString.lowercased()).sock", host: host),
                          .ip(host: "\(host).local", port: 4321, family: 2)],
        topics: Set(options["topic"] ?? []), services: Set(options["service"] ?? []))
    let discovery = makeDiscovery(domain: domain, base: base, backend: backendName)
    try await discovery.register(spec)
    say("registered \(uuid.uuidString.lowercased())")
    while let command = readLine() {
        let parts = command.split(separator: " ", maxSplits: 1).map(String.init)
        if parts.first == "quit" { break }
        if parts.count == 2, parts[0] == "topic" { spec.topics.insert(parts[1]) }
        if parts.count == 2, parts[0] == "service" { spec.services.insert(parts[1]) }
        try await discovery.update(spec)
        say("updated")
    }
    await discovery.unregister()
    say("unregistered")
case "watch":
    let discovery = makeDiscovery(domain: domain, base: base, backend: backendName)
    try await discovery.browse()
    for await event in discovery.events {
        switch event {
        case .upserted(let spec): say(line(spec))
        case .removed(let id): say("down \(id.uuid.uuidString.lowercased())")
        }
    }
default:
    FileHandle.standardError.write("unknown mode \(mode)\n".data(using: .utf8)!)
    exit(2)
}
