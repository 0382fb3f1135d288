import RosyFuzzing

/// libFuzzer's entry point: one input into `FuzzTarget.literal`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    FuzzTarget.literal.run(start, count)
    return 0
}
