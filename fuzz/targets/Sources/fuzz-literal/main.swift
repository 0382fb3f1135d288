import FuzzDriver

/// libFuzzer on `FuzzTarget.literal` (SwiftPM links `main` to `<module>_main`).
@_cdecl("fuzz_literal_main")
public func start(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(.literal, argc, argv)
}
