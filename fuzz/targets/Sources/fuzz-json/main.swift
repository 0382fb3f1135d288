import FuzzDriver

/// libFuzzer on `FuzzTarget.json` (SwiftPM links `main` to `<module>_main`).
@_cdecl("fuzz_json_main")
public func start(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(.json, argc, argv)
}
