import FuzzDriver

/// libFuzzer on `FuzzTarget.bag` (SwiftPM links `main` to `<module>_main`).
@_cdecl("fuzz_bag_main")
public func start(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(.bag, argc, argv)
}
