import FuzzDriver

/// libFuzzer on `FuzzTarget.pickle` (SwiftPM links `main` to `<module>_main`).
@_cdecl("fuzz_pickle_main")
public func start(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(.pickle, argc, argv)
}
