// swift-tools-version:6.0
import Foundation
import PackageDescription

// The fuzz executables: one per target of RosyFuzzing (Sources/RosyFuzzing), each starting
// libFuzzer's driver (FuzzDriver) on its target and nothing else. `fuzz/run` builds them with
//   swift build --package-path fuzz/targets -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
// (the sanitizer flags reach every module, the parent package's too).
// A package by path is known by its folder's name (the checkout's, which varies): this one's
// is "targets", the parent's is read from where this file is.
let rosy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().lastPathComponent.lowercased()
let targets = ["frame", "pickle", "json", "msgpack", "mcap", "bag", "mdns", "txt", "launch", "literal"]

let package = Package(
    name: "rosy-fuzz",
    dependencies: [.package(path: "../..")],
    targets: [
        .target(name: "FuzzDriver", dependencies: [.product(name: "RosyFuzzing", package: rosy)]),
    ] + targets.map { name in
        .executableTarget(name: "fuzz-\(name)", dependencies: ["FuzzDriver"], path: "Sources/fuzz-\(name)")
    },
    swiftLanguageModes: [.v6]
)
