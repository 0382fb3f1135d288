import RosyFuzzing

/// libFuzzer's entry point: one input into `FuzzTarget.bag`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    FuzzTarget.bag.run(start, count)
    return 0
}
