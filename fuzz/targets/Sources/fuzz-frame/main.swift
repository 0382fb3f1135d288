import FuzzDriver

/// libFuzzer on `FuzzTarget.frame` (SwiftPM links `main` to `<module>_main`).
@_cdecl("fuzz_frame_main")
public func start(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(.frame, argc, argv)
}
