import FuzzDriver

/// libFuzzer on `FuzzTarget.mcap` (SwiftPM links `main` to `<module>_main`).
@_cdecl("fuzz_mcap_main")
public func start(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(.mcap, argc, argv)
}
