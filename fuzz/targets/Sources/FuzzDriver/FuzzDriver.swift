import RosyFuzzing

/// Starts libFuzzer on one of RosyFuzzing's targets, from an executable's start:
///
/// ```swift
/// @_cdecl("fuzz_frame_main")   // SwiftPM links the executable's `main` to `<module>_main`
/// public func start(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
///     FuzzDriver.run(.frame, argc, argv)
/// }
/// ```
public enum FuzzDriver {
    /// Hands the command line to libFuzzer's driver, which feeds its inputs to `target`.
    public static func run(_ target: FuzzTarget, _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        current = target
        var argc = argc
        var argv = argv
        return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput)
    }
}

/// The target of this process, set once before libFuzzer starts.
nonisolated(unsafe) private var current = FuzzTarget.frame

/// libFuzzer's entry point: one input into the process's target.
@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    current.run(start, count)
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ test: @convention(c) (UnsafeRawPointer?, Int) -> CInt) -> CInt
