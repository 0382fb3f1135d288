import FuzzDriver

/// libFuzzer on `FuzzTarget.launch` (SwiftPM links `main` to `<module>_main`).
@_cdecl("fuzz_launch_main")
public func start(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(.launch, argc, argv)
}
