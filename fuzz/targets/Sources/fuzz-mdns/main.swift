import RosyFuzzing

/// libFuzzer's entry point: one input into `FuzzTarget.mdns`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    FuzzTarget.mdns.run(start, count)
    return 0
}
