import RosyFuzzing

/// libFuzzer's entry point: one input into `FuzzTarget.txt`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    FuzzTarget.txt.run(start, count)
    return 0
}
