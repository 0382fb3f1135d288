import RosyFuzzing

/// libFuzzer's entry point: one input into `FuzzTarget.launch`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    FuzzTarget.launch.run(start, count)
    return 0
}
