import RosyFuzzing

/// libFuzzer's entry point: one input into `FuzzTarget.frame`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    FuzzTarget.frame.run(start, count)
    return 0
}
