import RosyFuzzing

/// libFuzzer's entry point: one input into `FuzzTarget.json`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    FuzzTarget.json.run(start, count)
    return 0
}
