import RosyFuzzing

/// libFuzzer's entry point: one input into `FuzzTarget.pickle`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    FuzzTarget.pickle.run(start, count)
    return 0
}
