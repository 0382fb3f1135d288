// Codec throughput: encodes and decodes typical message data with each codec.
// Run: swift run -c release wire-codec-bench [FILTER]   (FILTER: a part of the label, e.g. "pickle decode")
import Foundation
import NIOCore
import RosyWire

let samples: [(String, Value)] = [
    ("str 11 B", "hello world"),
    ("speedtest 1 kB", .tuple([1_732_540_000.123, .string(String(repeating: "A", count: 1000))])),
    ("small dict", ["x": 1.5, "y": -2.0, "label": "pose", "id": 42, "ok": true]),
    ("list of 100 ints", .list((0..<100).map { .int($0 * 1000) })),
    ("bytes 1 MB", .bytes(Array(repeating: 7, count: 1 << 20))),
]

let filter = CommandLine.arguments.dropFirst().first

func measure(_ label: String, bytesPerOp: Int, _ body: () throws -> Void) rethrows {
    if let filter, !label.contains(filter) { return }
    let clock = ContinuousClock()
    var iterations = 1
    while true {
        let start = clock.now
        for _ in 0..<iterations { try body() }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        if seconds > 0.5 {
            let opsPerSecond = Double(iterations) / seconds
            let mbps = opsPerSecond * Double(bytesPerOp) / 1e6
            print(label.padding(toLength: 40, withPad: " ", startingAt: 0),
                  String(format: "%12.0f ops/s %10.1f MB/s", opsPerSecond, mbps))
            return
        }
        iterations *= 2
    }
}

for codec in MessageCodecs.all {
    for (name, value) in samples {
        guard codec.name != "json" || value.bytesValue == nil else { continue }
        var buffer = ByteBuffer()
        buffer.reserveCapacity(1 << 21)
        try codec.encode(value, into: &buffer)
        let encoded = buffer
        try measure("\(codec.name) encode \(name)", bytesPerOp: encoded.readableBytes) {
            buffer.clear()
            try codec.encode(value, into: &buffer)
        }
        try measure("\(codec.name) decode \(name)", bytesPerOp: encoded.readableBytes) {
            var input = encoded
            _ = try codec.decode(&input)
        }
    }
}
