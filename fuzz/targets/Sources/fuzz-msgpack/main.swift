import RosyFuzzing

/// libFuzzer's entry point: one input into `FuzzTarget.msgpack`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    FuzzTarget.msgpack.run(start, count)
    return 0
}
