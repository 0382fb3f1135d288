import FuzzDriver

/// libFuzzer on `FuzzTarget.mdns` (SwiftPM links `main` to `<module>_main`).
@_cdecl("fuzz_mdns_main")
public func start(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(.mdns, argc, argv)
}
