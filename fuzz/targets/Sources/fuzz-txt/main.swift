import FuzzDriver

/// libFuzzer on `FuzzTarget.txt` (SwiftPM links `main` to `<module>_main`).
@_cdecl("fuzz_txt_main")
public func start(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    FuzzDriver.run(.txt, argc, argv)
}
