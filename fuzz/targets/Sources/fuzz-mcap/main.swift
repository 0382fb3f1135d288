import RosyFuzzing

/// libFuzzer's entry point: one input into `FuzzTarget.mcap`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    FuzzTarget.mcap.run(start, count)
    return 0
}
