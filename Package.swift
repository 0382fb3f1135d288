// swift-tools-version:6.0
import PackageDescription

// The map of the package: one job per target.
//
//   RosyWire       values, codecs (pickle/json/msgpack), frames      NIOCore only, no I/O
//   CRosySys       C shims (prctl, signals) for the supervisor
//   CAvahi         libavahi-client, through pkg-config
//   RosyDiscovery  Discovery protocol, local registry, Avahi, mDNS reader
//   Rosy           transport and node API                           NIOPosix
//   RosyLaunch     the supervisor: config, spawn, state machine, logs, control
//   RosyFoxglove   the Foxglove WebSocket bridge (`rosy foxglove`)     NIOWebSocket
//   RosyCLI        the `rosy` command's subcommands
//   RosyFuzzing    the readers of hostile input as fuzz targets (fuzz/run)
//   rosy, rosy-launch, examples/*: thin executables
let package = Package(
    name: "rosy",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Rosy", targets: ["Rosy"]),
        .library(name: "RosyWire", targets: ["RosyWire"]),
        .library(name: "RosyLaunch", targets: ["RosyLaunch"]),
        // The readers of hostile input as functions from bytes, for fuzz/Package.swift.
        .library(name: "RosyFuzzing", targets: ["RosyFuzzing"]),
        .executable(name: "rosy", targets: ["rosy"]),
        .executable(name: "rosy-launch", targets: ["rosy-launch"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "RosyWire",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ]
        ),
        .target(name: "CRosySys"),
        // libavahi-client from Debian's libavahi-client-dev. The module map links it directly:
        // its pkg-config file adds -D_REENTRANT, a flag SwiftPM refuses with a warning.
        .systemLibrary(name: "CAvahi", providers: [.apt(["libavahi-client-dev"])]),
        // BLAKE2b for the domain hash, from Debian's libb2-dev; linked through the module map.
        .systemLibrary(name: "CBlake2", providers: [.apt(["libb2-dev"])]),
        // zlib (Debian zlib1g-dev) for the raw deflate members of the discovery TXT blob.
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        // zstd and LZ4 frames (Debian libzstd-dev, liblz4-dev) for compressed MCAP chunks.
        .systemLibrary(name: "CZstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLZ4", providers: [.apt(["liblz4-dev"])]),
        .target(
            name: "RosyDiscovery",
            dependencies: [
                "RosyWire", "CRosySys", "CAvahi", "CBlake2", "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]
        ),
        .target(
            name: "Rosy",
            dependencies: [
                "RosyWire", "RosyDiscovery", "CRosySys",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ]
        ),
        .target(
            name: "RosyLaunch",
            dependencies: [
                "CRosySys", "Rosy", "RosyDiscovery",
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The Foxglove WebSocket protocol (foxglove.websocket.v1) served from the mesh.
        .target(
            name: "RosyFoxglove",
            dependencies: [
                "Rosy", "RosyWire",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ]
        ),
        .target(
            name: "RosyCLI",
            dependencies: [
                "Rosy", "RosyDiscovery", "RosyWire", "RosyLaunch", "RosyFoxglove", "CZstd", "CLZ4",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]
        ),
        // One function per fuzz target (fuzz/run, fuzz/Package.swift), and the corpus replay test.
        .target(
            name: "RosyFuzzing",
            dependencies: [
                "RosyWire", "RosyDiscovery", "RosyLaunch", "RosyCLI",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(name: "RosyTestSupport", path: "Sources/RosyTestSupport"),
        .executableTarget(name: "rosy", dependencies: ["RosyCLI"]),
        .executableTarget(name: "rosy-launch", dependencies: ["RosyLaunch"]),
        // A tiny registrant/watcher for discovery tests run as separate processes.
        .executableTarget(name: "rosy-discovery-probe", dependencies: ["RosyDiscovery"]),
        // A Swift node for mesh interop tests with Python rosy (each codec, real discovery).
        .executableTarget(name: "rosy-interop-node", dependencies: ["Rosy", "RosyWire"]),

        // Demo nodes, doing and printing what rosy's demos do.
        .executableTarget(name: "topic_sender", dependencies: ["Rosy"], path: "examples/topic_sender"),
        .executableTarget(name: "topic_listener", dependencies: ["Rosy"], path: "examples/topic_listener"),
        .executableTarget(name: "service_provider", dependencies: ["Rosy"], path: "examples/service_provider"),
        .executableTarget(name: "service_caller", dependencies: ["Rosy"], path: "examples/service_caller"),
        .executableTarget(
            name: "rosy-bench-throughput", dependencies: ["Rosy", "RosyDiscovery", "RosyWire"],
            path: "bench/throughput"),

        // The soak's Swift nodes (bench/soak, bench/README.md "Soak"): one role per process.
        .executableTarget(
            name: "rosy-soak-node",
            dependencies: ["Rosy", .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            path: "bench/soak-node"),

        // Codec throughput (not a test): swift run -c release wire-codec-bench
        .executableTarget(name: "wire-codec-bench", dependencies: ["RosyWire", .product(name: "NIOCore", package: "swift-nio")], path: "bench/wire-codecs"),

        // The Swift side of the benchmarks (bench/README.md); bench/run builds it in release.
        .executableTarget(
            name: "rosy-bench",
            dependencies: [
                "Rosy", "RosyWire", "RosyDiscovery",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "bench/swift"
        ),

        .testTarget(
            name: "RosyWireTests",
            dependencies: [
                "RosyTestSupport", "RosyWire", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "RosyDiscoveryTests",
            dependencies: ["RosyTestSupport", "RosyDiscovery", "RosyWire"]
        ),
        .testTarget(
            name: "RosyTests",
            dependencies: ["RosyTestSupport", "Rosy", "RosyWire", "RosyDiscovery", .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")]
        ),
        .testTarget(
            name: "RosyFuzzingTests",
            dependencies: ["RosyTestSupport", "RosyFuzzing"]
        ),
        .testTarget(
            name: "RosyLaunchTests",
            dependencies: ["RosyTestSupport", "RosyLaunch"]
        ),
        .testTarget(
            name: "RosyFoxgloveTests",
            dependencies: [
                "RosyTestSupport", "RosyFoxglove", "Rosy", "RosyWire",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "RosyCLITests",
            dependencies: ["RosyTestSupport", "RosyCLI", "Rosy", "RosyWire"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
