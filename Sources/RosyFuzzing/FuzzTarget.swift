import NIOCore
import RosyCLI
import RosyDiscovery
import RosyLaunch
import RosyWire

/// The readers of hostile input, each as one function from bytes: what the fuzz executables
/// (fuzz/Package.swift, run by `fuzz/run`) feed libFuzzer's inputs to, and what the replay
/// test feeds every file of fuzz/corpus and fuzz/regressions to.
///
/// A target exercises the real decoder on bytes in memory (no socket, no file) and returns
/// normally for any input, good or bad: a bad one is an error the reader throws and the
/// target drops. A crash, a sanitizer report, a hang, or an error of a type the reader
/// promises not to throw is a bug.
///
/// ```swift
/// FuzzTarget.frame.run(Array(bytes))
/// for target in FuzzTarget.allCases { print(target.rawValue) }   // corpus folder names
/// ```
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A byte stream into the node's frame decoders, split in two reads; every data item
    /// of every frame decoded with the codec the first byte picks. The stream is also read
    /// as one topic message in a shared-memory lane, decoded where it lies.
    case frame
    /// One pickle, as plain data (message data) and with the globals of bag files and specs.
    case pickle
    case json
    case msgpack
    /// An MCAP file, as `rosy bag play|info` reads it.
    case mcap
    /// A rosy `.bag` file, as `rosy bag play|info` reads it.
    case bag
    /// An mDNS packet, as the discovery reader reads it, TXT records down to node specs.
    case mdns
    /// A TXT record's rdata (the gzip blob), down to a node's spec.
    case txt
    /// A launch file's text, through Yams and the loader's checks.
    case launch
    /// The CLI's Python literals: one per line, and all lines as one `topic send` command line.
    case literal

    /// Runs the target on one input.
    public func run(_ bytes: [UInt8]) {
        switch self {
        case .frame: Self.frames(bytes)
        case .pickle: Self.pickle(bytes)
        case .json: Self.decode(bytes, with: JSONCodec())
        case .msgpack: Self.decode(bytes, with: MsgpackCodec())
        case .mcap: _ = try? RecordingReaders.readMCAP(bytes)
        case .bag: _ = try? RecordingReaders.readBag(bytes)
        case .mdns: _ = try? MDNSPacketReading.specs(in: bytes)
        case .txt: _ = try? MDNSPacketReading.spec(inTXT: bytes)
        case .launch: _ = try? LaunchConfigLoader().parse(String(decoding: bytes, as: UTF8.self), file: "fuzz.yaml")
        case .literal: Self.literals(bytes)
        }
    }

    /// Runs the target on one input given as libFuzzer gives it.
    public func run(_ start: UnsafeRawPointer?, _ count: Int) {
        run(count == 0 ? [] : Array(UnsafeRawBufferPointer(start: start, count: count)))
    }

    /// The largest frame the frame target accepts: a node's default (`NodeOptions.maxFrameSize`).
    static let frameLimit = defaultMaximumMessageSize

    /// Byte 0 picks the codec, byte 1 where the stream is cut into two reads; the rest is the stream.
    private static func frames(_ bytes: [UInt8]) {
        guard bytes.count >= 2 else { return }
        let codec = MessageCodecs.all[Int(bytes[0]) % MessageCodecs.all.count]
        let stream = bytes[2...]
        let cut = stream.isEmpty ? 0 : Int(bytes[1]) % (stream.count + 1)
        let reads = [ByteBuffer(bytes: stream.prefix(cut)), ByteBuffer(bytes: stream.dropFirst(cut))]

        var requests = FrameAssembler(InboundFrameDecoder(maximumMessageSize: frameLimit))
        // Byte 0's top bit: read as a server that accepted a shared-memory lane (`m` frames).
        requests.updateDecoder { $0.acceptsSharedMemoryReferences = bytes[0] & 0x80 != 0 }
        var responses = FrameAssembler(ServiceResponseDecoder(maximumMessageSize: frameLimit))
        do {
            for read in reads {
                try requests.process(read) { frame in
                    switch frame {
                    case .topicMessage(let message): decode(message.arguments, with: codec)
                    case .serviceRequest(let request): decode(request.arguments, with: codec)
                    case .sharedMemoryReference: break
                    }
                }
            }
            try requests.finish()
        } catch {
            expect(error, is: FrameError.self, "the frame decoder")
        }
        do {
            for read in reads {
                try responses.process(read) { response in
                    if case .success(var data) = response.outcome { decode(&data, with: codec) }
                }
            }
            try responses.finish()
        } catch {
            expect(error, is: FrameError.self, "the response decoder")
        }
        // The whole stream as one frame in a shared-memory lane, read where it lies.
        do {
            _ = try Array(stream).withUnsafeBytes { raw in
                try InboundFrameDecoder.decodeTopicMessage(raw, maximumMessageSize: frameLimit, codec: codec)
            }
        } catch {
            expect(error, is: UndecodableTopicMessage.self, "the in-place topic decoder")
        }
    }

    private static func decode(_ arguments: RawArguments, with codec: any MessageCodec) {
        for var item in arguments.args { decode(&item, with: codec) }
        for argument in arguments.kwargs {
            var item = argument.data
            decode(&item, with: codec)
        }
    }

    private static func decode(_ bytes: [UInt8], with codec: any MessageCodec) {
        var buffer = ByteBuffer(bytes: bytes)
        decode(&buffer, with: codec)
    }

    /// A codec promises a ``CodecError`` for bad data, nothing else.
    private static func decode(_ buffer: inout ByteBuffer, with codec: any MessageCodec) {
        do {
            _ = try codec.decode(&buffer)
        } catch {
            expect(error, is: CodecError.self, "the \(codec.name) codec")
        }
    }

    /// The globals that bag files and node specs may name.
    static let bagAndSpecGlobals = SpecPickle.allowedGlobals.union([PickleGlobal("datetime", "datetime")])

    private static func pickle(_ bytes: [UInt8]) {
        decode(bytes, with: PickleCodec())
        do {
            _ = try PickleReader(allowedGlobals: bagAndSpecGlobals).read(bytes)
        } catch {
            expect(error, is: CodecError.self, "the pickle reader")
        }
    }

    private static func literals(_ bytes: [UInt8]) {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for line in lines {
            if let value = try? PythonLiteralParser.parse(line) { _ = value.pythonRepr }
        }
        _ = try? MessageArguments(parsing: lines)
    }

    /// Stops the run (a crash libFuzzer reports, with the input) when a reader throws an
    /// error of a type it promises not to.
    private static func expect<E: Error>(_ error: any Error, is type: E.Type, _ reader: String) {
        guard error is E else { fatalError("\(reader) threw \(Swift.type(of: error)), not \(E.self): \(error)") }
    }
}
